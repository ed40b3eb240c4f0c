#include "cpng.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint8_t *data; size_t len, cap; int failed; } membuf;

static void write_fn(png_structp png, png_bytep data, png_size_t n) {
    membuf *m = (membuf *)png_get_io_ptr(png);
    if (m->failed) return;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 65536;
        while (cap < m->len + n) cap *= 2;
        uint8_t *p = (uint8_t *)realloc(m->data, cap);
        if (!p) { m->failed = 1; return; }
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, n);
    m->len += n;
}
static void flush_fn(png_structp png) { (void)png; }

int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, uint8_t **out, size_t *outlen,
                char *err, size_t errcap) {
    *out = NULL;
    *outlen = 0;
    if (width == 0 || height == 0 || (channels != 1 && channels != 3)) {
        snprintf(err, errcap, "invalid image size or channel count");
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_write_struct(&png, NULL);
        snprintf(err, errcap, "libpng could not start");
        return -1;
    }
    membuf m = {0};
    png_bytep *rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(m.data);
        free(rows);
        snprintf(err, errcap, "libpng failed while encoding");
        return -1;
    }
    png_set_write_fn(png, &m, write_fn, flush_fn);
    png_set_IHDR(png, info, width, height, 8, channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!rows) longjmp(png_jmpbuf(png), 1);
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * width * channels);
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    if (m.failed) {
        free(m.data);
        snprintf(err, errcap, "out of memory while encoding PNG");
        return -1;
    }
    *out = m.data;
    *outlen = m.len;
    return 0;
}

void cpng_free(uint8_t *p) { free(p); }
