/* Plain C interface over libdeflate (gzip members) and zlib (reading). Only DicomPrepCore/Compression/Gzip.swift
 * calls these functions. */
#ifndef CDEFLATE_H
#define CDEFLATE_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Upper bound of the size of one gzip member for n input bytes. */
size_t cdf_gzip_bound(size_t n);
/* Compress in[0..n) into one complete gzip member; returns its size, 0 on failure. Thread-safe. */
size_t cdf_gzip(const void *in, size_t n, int level, void *out, size_t cap);
/* Decompress a whole (possibly multi-member) gzip file into out; returns the byte count or -1. */
long long cdf_gunzip_file(const char *path, void *out, size_t cap);
/* The same for gzip data in memory; returns the byte count, -1 when corrupt, -2 when out is too small. */
long long cdf_gunzip_buffer(const void *in, size_t n, void *out, size_t cap);
#ifdef __cplusplus
}
#endif
#endif
