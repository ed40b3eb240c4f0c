/* Internal: JPEG 2000 frame decoding through OpenJPEG (open-source dcmtk has no J2K codec). */
#ifndef CDICOM_J2K_H
#define CDICOM_J2K_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
int cd_j2k_decode(const uint8_t *data, size_t len, uint32_t rows, uint32_t cols, uint32_t bits_allocated,
                  void *out, char *err, size_t errcap);
#ifdef __cplusplus
}
#endif
#endif
