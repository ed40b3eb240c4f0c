/* Plain C interface over libpng. Only DicomPrep/Core/PNGWriter.swift calls it. */
#ifndef CPNG_H
#define CPNG_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Encode an 8-bit image (channels 1 = grey, 3 = RGB) into a PNG in memory. On success *out points to
 * malloc'ed bytes (free with cpng_free) and *outlen holds their count; returns 0, or -1 with err set. */
int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, uint8_t **out, size_t *outlen,
                char *err, size_t errcap);
void cpng_free(uint8_t *p);
#ifdef __cplusplus
}
#endif
#endif
