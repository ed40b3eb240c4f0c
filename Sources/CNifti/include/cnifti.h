/* Plain C interface over libnifti2. Only DicomPrep/Core/NiftiIO.swift calls these functions. */
#ifndef CNIFTI_H
#define CNIFTI_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

enum { CN_OK = 0, CN_ERROR = 2 };

/* NIfTI datatype codes used by dicomprep. */
enum { CN_UINT8 = 2, CN_INT16 = 4, CN_INT32 = 8, CN_FLOAT32 = 16, CN_FLOAT64 = 64, CN_UINT16 = 512 };

/* What describes one image: sizes, voxel type, spacing, the voxel->RAS mm affine (rows of a 4x4). */
typedef struct {
    int64_t dims[4];      /* nx, ny, nz, nt (nt = 1 for a 3D volume) */
    int32_t datatype;     /* CN_* */
    double pixdim[4];     /* dx, dy, dz (mm), dt (s) */
    double affine[16];    /* row-major 4x4, written as sform and (orthogonalised) qform, code 1 */
    double scl_slope;     /* 0 or 1 = no scaling */
    double scl_inter;
    double cal_min, cal_max;
    char descrip[80];     /* NUL-terminated */
    char intent_name[16]; /* NUL-terminated */
} cn_header_spec;

/* Fill out[348] with a NIfTI-1 single-file header (magic n+1, vox_offset 352) built by libnifti. */
int cn_make_nifti1_header(const cn_header_spec *spec, unsigned char out[348], char *err, size_t errcap);

/* A NIfTI file read back by libnifti (any of .nii, .nii.gz, NIfTI-1 or -2). */
typedef struct {
    int64_t dims[8];
    int32_t datatype;
    int32_t nifti_type;
    double pixdim[8];
    double sform[16];
    double qform[16];
    int32_t sform_code, qform_code;
    int32_t xyz_units, time_units;
    double scl_slope, scl_inter;
    char descrip[80];
    char intent_name[16];
    char aux_file[24];
    int32_t num_ext;
} cn_image_info;

/* Read the header and, when values != NULL, all voxels converted to double (no scaling applied);
 * nvalues must be at least the product of the dimensions. */
int cn_read(const char *path, cn_image_info *info, double *values, size_t nvalues, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
