/* libnifti shim. */
#include "cnifti.h"
#include <nifti2_io.h>
#include <stdio.h>
#include <string.h>

int cn_make_nifti1_header(const cn_header_spec *spec, unsigned char out[348], char *err, size_t errcap) {
    int64_t dims[8] = {spec->dims[3] > 1 ? 4 : 3, spec->dims[0], spec->dims[1], spec->dims[2],
                       spec->dims[3] > 1 ? spec->dims[3] : 1, 1, 1, 1};
    nifti_image *nim = nifti_make_new_nim(dims, spec->datatype, 0);
    if (!nim) {
        snprintf(err, errcap, "libnifti could not create an image of datatype %d", spec->datatype);
        return CN_ERROR;
    }
    nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    nim->dx = nim->pixdim[1] = spec->pixdim[0];
    nim->dy = nim->pixdim[2] = spec->pixdim[1];
    nim->dz = nim->pixdim[3] = spec->pixdim[2];
    nim->dt = nim->pixdim[4] = spec->dims[3] > 1 ? spec->pixdim[3] : 0;
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->time_units = NIFTI_UNITS_SEC;
    nifti_dmat44 m;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) m.m[r][c] = spec->affine[r * 4 + c];
    nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->sto_xyz = m;
    nim->sto_ijk = nifti_dmat44_inverse(m);
    nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
    nifti_dmat44_to_quatern(m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
    nim->quatern_b = qb;
    nim->quatern_c = qc;
    nim->quatern_d = qd;
    nim->qoffset_x = qx;
    nim->qoffset_y = qy;
    nim->qoffset_z = qz;
    nim->qfac = qfac;
    nim->qto_xyz = nifti_quatern_to_dmat44(qb, qc, qd, qx, qy, qz, nim->dx, nim->dy, nim->dz, qfac);
    nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
    nim->scl_slope = spec->scl_slope;
    nim->scl_inter = spec->scl_inter;
    nim->cal_min = spec->cal_min;
    nim->cal_max = spec->cal_max;
    snprintf(nim->descrip, sizeof nim->descrip, "%s", spec->descrip);
    snprintf(nim->intent_name, sizeof nim->intent_name, "%s", spec->intent_name);
    nifti_1_header hdr;
    int rc = nifti_convert_nim2n1hdr(nim, &hdr);
    nifti_image_free(nim);
    if (rc != 0) {
        snprintf(err, errcap, "libnifti could not build a NIfTI-1 header (dimensions too large?)");
        return CN_ERROR;
    }
    memcpy(hdr.magic, "n+1\0", 4);
    hdr.vox_offset = 352.0f;
    memcpy(out, &hdr, 348);
    return CN_OK;
}

int cn_read(const char *path, cn_image_info *info, double *values, size_t nvalues, char *err, size_t errcap) {
    memset(info, 0, sizeof *info);
    nifti_set_debug_level(0);
    nifti_image *nim = nifti_image_read(path, values != NULL);
    if (!nim) {
        snprintf(err, errcap, "libnifti could not read %s", path);
        return CN_ERROR;
    }
    for (int i = 0; i < 8; i++) {
        info->dims[i] = nim->dim[i];
        info->pixdim[i] = nim->pixdim[i];
    }
    info->datatype = nim->datatype;
    info->nifti_type = nim->nifti_type;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            info->sform[r * 4 + c] = nim->sto_xyz.m[r][c];
            info->qform[r * 4 + c] = nim->qto_xyz.m[r][c];
        }
    info->sform_code = nim->sform_code;
    info->qform_code = nim->qform_code;
    info->xyz_units = nim->xyz_units;
    info->time_units = nim->time_units;
    info->scl_slope = nim->scl_slope;
    info->scl_inter = nim->scl_inter;
    snprintf(info->descrip, sizeof info->descrip, "%s", nim->descrip);
    snprintf(info->intent_name, sizeof info->intent_name, "%s", nim->intent_name);
    snprintf(info->aux_file, sizeof info->aux_file, "%s", nim->aux_file);
    info->num_ext = nim->num_ext;
    int rc = CN_OK;
    if (values) {
        size_t n = (size_t)nim->nvox;
        if (n > nvalues || !nim->data) {
            snprintf(err, errcap, "value buffer too small or no data in %s", path);
            rc = CN_ERROR;
        } else {
            for (size_t i = 0; i < n; i++) {
                switch (nim->datatype) {
                case DT_UINT8: values[i] = ((unsigned char *)nim->data)[i]; break;
                case DT_INT8: values[i] = ((signed char *)nim->data)[i]; break;
                case DT_INT16: values[i] = ((short *)nim->data)[i]; break;
                case DT_UINT16: values[i] = ((unsigned short *)nim->data)[i]; break;
                case DT_INT32: values[i] = ((int *)nim->data)[i]; break;
                case DT_UINT32: values[i] = ((unsigned int *)nim->data)[i]; break;
                case DT_FLOAT32: values[i] = ((float *)nim->data)[i]; break;
                case DT_FLOAT64: values[i] = ((double *)nim->data)[i]; break;
                default:
                    snprintf(err, errcap, "datatype %d is not readable here", nim->datatype);
                    rc = CN_ERROR;
                    i = n;
                    break;
                }
            }
        }
    }
    nifti_image_free(nim);
    return rc;
}
