// JPEG 2000 decoding of one frame with OpenJPEG, from memory.
#include "j2k.h"
#include "cdicom.h"
#include <openjpeg.h>
#include <cstdio>
#include <cstring>
#include <string>

namespace {
struct MemStream {
    const uint8_t *data;
    size_t len;
    size_t pos;
};

OPJ_SIZE_T readFn(void *buf, OPJ_SIZE_T n, void *user) {
    MemStream *m = static_cast<MemStream *>(user);
    if (m->pos >= m->len) return (OPJ_SIZE_T)-1;
    size_t k = m->len - m->pos < n ? m->len - m->pos : n;
    std::memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return k;
}
OPJ_OFF_T skipFn(OPJ_OFF_T n, void *user) {
    MemStream *m = static_cast<MemStream *>(user);
    if (n < 0) {
        if ((size_t)(-n) > m->pos) n = -(OPJ_OFF_T)m->pos;
    } else if ((size_t)n > m->len - m->pos) {
        n = (OPJ_OFF_T)(m->len - m->pos);
    }
    m->pos += n;
    return n;
}
OPJ_BOOL seekFn(OPJ_OFF_T n, void *user) {
    MemStream *m = static_cast<MemStream *>(user);
    if (n < 0 || (size_t)n > m->len) return OPJ_FALSE;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}
void onError(const char *msg, void *user) {
    std::string *s = static_cast<std::string *>(user);
    if (s->empty()) *s = msg;
    while (!s->empty() && (s->back() == '\n' || s->back() == ' ')) s->pop_back();
}
void quiet(const char *, void *) {}
} // namespace

extern "C" int cd_j2k_decode(const uint8_t *data, size_t len, uint32_t rows, uint32_t cols, uint32_t bits, void *out,
                             char *err, size_t errcap) {
    try {
        if (len < 12) {
            std::snprintf(err, errcap, "empty codestream");
            return CD_ERROR;
        }
        bool jp2 = std::memcmp(data + 4, "jP  ", 4) == 0;
        MemStream m{data, len, 0};
        opj_stream_t *s = opj_stream_create(1 << 16, OPJ_TRUE);
        opj_stream_set_user_data(s, &m, nullptr);
        opj_stream_set_user_data_length(s, len);
        opj_stream_set_read_function(s, readFn);
        opj_stream_set_skip_function(s, skipFn);
        opj_stream_set_seek_function(s, seekFn);
        opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
        std::string msg;
        opj_set_error_handler(codec, onError, &msg);
        opj_set_warning_handler(codec, quiet, nullptr);
        opj_set_info_handler(codec, quiet, nullptr);
        opj_dparameters_t p;
        opj_set_default_decoder_parameters(&p);
        opj_image_t *img = nullptr;
        bool ok = opj_setup_decoder(codec, &p) && opj_read_header(s, codec, &img);
        // The codestream's own header must agree with the DICOM header before anything is decoded:
        // a crafted SIZ marker can declare gigapixels (found by fuzzing: OpenJPEG then allocates 8 GB).
        if (ok && img) {
            uint64_t w = (uint64_t)img->x1 - img->x0, h = (uint64_t)img->y1 - img->y0;
            if (img->numcomps != 1 || w != cols || h != rows) {
                std::snprintf(err, errcap, "codestream declares %llux%llu with %u component(s) but the header says %ux%u, 1 component",
                              (unsigned long long)w, (unsigned long long)h, img->numcomps, cols, rows);
                int rc = img->numcomps != 1 ? CD_UNSUPPORTED : CD_ERROR;
                opj_image_destroy(img);
                opj_stream_destroy(s);
                opj_destroy_codec(codec);
                return rc;
            }
        }
        ok = ok && opj_decode(codec, s, img) && opj_end_decompress(codec, s);
        opj_stream_destroy(s);
        opj_destroy_codec(codec);
        if (!ok || !img) {
            if (img) opj_image_destroy(img);
            std::snprintf(err, errcap, "OpenJPEG could not decode the frame (%s)", msg.empty() ? "corrupt codestream" : msg.c_str());
            return CD_ERROR;
        }
        int rc = CD_OK;
        if (img->numcomps != 1) {
            std::snprintf(err, errcap, "%u colour components are not supported", img->numcomps);
            rc = CD_UNSUPPORTED;
        } else if (img->comps[0].w != cols || img->comps[0].h != rows || !img->comps[0].data) {
            std::snprintf(err, errcap, "codestream is %ux%u but the header says %ux%u", img->comps[0].w, img->comps[0].h,
                          cols, rows);
            rc = CD_ERROR;
        } else {
            const OPJ_INT32 *src = img->comps[0].data;
            size_t n = (size_t)rows * cols;
            if (bits == 8) {
                uint8_t *o = (uint8_t *)out;
                for (size_t i = 0; i < n; i++) o[i] = (uint8_t)src[i];
            } else if (bits == 16) {
                uint16_t *o = (uint16_t *)out;
                for (size_t i = 0; i < n; i++) o[i] = (uint16_t)src[i];
            } else {
                uint32_t *o = (uint32_t *)out;
                for (size_t i = 0; i < n; i++) o[i] = (uint32_t)src[i];
            }
        }
        opj_image_destroy(img);
        return rc;
    } catch (...) {
        std::snprintf(err, errcap, "internal error in JPEG 2000 decoding");
        return CD_ERROR;
    }
}
