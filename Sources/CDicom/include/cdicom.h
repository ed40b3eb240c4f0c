/* Plain C interface over dcmtk (and OpenJPEG for JPEG 2000). Only DicomPrep/Core/DicomObject.swift
 * calls these functions. Every C++ exception is caught here and returned as a status + message. */
#ifndef CDICOM_H
#define CDICOM_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by every call. */
enum { CD_OK = 0, CD_ABSENT = 1, CD_ERROR = 2, CD_UNSUPPORTED = 3 };

typedef struct cd_object cd_object;

/* Register dcmtk's JPEG, JPEG-LS and RLE decoders and silence dcmtk's logger. Idempotent. */
void cd_init(void);
/* Compares the data dictionary read at start-up (the shim's fast reader) with dcmtk's own reading of
 * the same file: the number of entries compared, or -1 and the first difference in err. */
long cd_dictionary_check(char *err, size_t errcap);

/* Read a DICOM file (with or without a meta header). Values larger than 4 KiB, such as PixelData,
 * are read from the file only when asked for. */
int cd_open(const char *path, cd_object **out, char *err, size_t errcap);
/* The same from bytes in memory (e.g. a decompressed .dcm.gz); every value is loaded at once, so the bytes
 * may be freed when this returns. */
int cd_open_memory(const void *data, size_t len, cd_object **out, char *err, size_t errcap);
/* A new empty dataset, for writing. */
int cd_new(cd_object **out);
void cd_close(cd_object *obj);
/* Process-wide: the C allocator serves buffers up to 32 MB from its heap and keeps freed memory (up to 64 MB
 * of free top) for the next ones, instead of mapping and unmapping each (conversion runs; see ProcessMemory). */
void cd_keep_freed_buffers(void);
/* Gives the allocator's free memory back to the system (free pages inside the heap too), once. */
void cd_return_freed_memory(void);

/* A tag path: tags[0..depth-1]; items[i] is the sequence item taken inside tags[i] for i < depth-1.
 * Tags are (group << 16) | element. Group 0002 at depth 1 addresses the meta header. */

/* The element's value(s) as text, several values separated by '\\'. *needed receives the length;
 * the text is truncated (and NUL-terminated) when it does not fit into cap. */
int cd_get_string(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth,
                  char *buf, size_t cap, size_t *needed);
/* Compares cd_get_string's one-pass reading of every character-string element in the dataset (sequences
 * included) with dcmtk's own normalised text: the number of elements compared, or -1 and the first
 * difference in err. */
long cd_text_check(cd_object *obj, char *err, size_t errcap);
/* The first value of a binary integer element (US, SS, UL, SL, UV, SV) into *out, without formatting it as
 * text first. CD_UNSUPPORTED for any other VR (read those with cd_get_string), CD_ABSENT when absent or empty. */
int cd_get_integer(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, int64_t *out);
/* The element's raw value bytes (little-endian for binary VRs; the text for string VRs) and its VR
 * (two letters, NUL-terminated, into vr[3]). *needed receives the length; truncated when cap is short.
 * Used for private elements: the Siemens CSA header (OB/UN) and vendor numbers read as UN in implicit VR. */
int cd_get_bytes(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth,
                 uint8_t *buf, size_t cap, size_t *needed, char *vr);
/* Values of every item of a sequence in one pass (the Per-frame Functional Groups of an enhanced file hold
 * one item per frame; reading them one lookup at a time walks the item list from its start each time).
 * seq_tags/seq_items/seq_depth address the sequence; each of the npaths relative paths is given by
 * rel_depths[p] tags and items taken in order from rel_tags/rel_items, addressed inside each item.
 * *out receives a malloc'ed block (free it with cd_free) of count*npaths NUL-terminated strings, item-major;
 * *present (malloc'ed, count*npaths bytes) is 1 where the value exists; *count the number of items. */
int cd_sequence_strings(cd_object *obj, const uint32_t *seq_tags, const uint32_t *seq_items, int seq_depth,
                        const uint32_t *rel_tags, const uint32_t *rel_items, const int *rel_depths, int npaths,
                        char **out, size_t *out_len, uint8_t **present, uint32_t *count);
void cd_free(void *p);
/* The number of items of a sequence element. */
int cd_item_count(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, uint32_t *count);
/* The UID of the transfer syntax the file was read in ("" for a new dataset). */
int cd_transfer_syntax(cd_object *obj, char *buf, size_t cap);

/* What is known about PixelData before decoding it. */
typedef struct {
    uint64_t length;        /* value length in bytes (uncompressed) or 0xFFFFFFFF (encapsulated) */
    uint32_t encapsulated;  /* 1 for a compressed transfer syntax */
    uint32_t fragments;     /* number of compressed fragments (without the offset table) */
    uint32_t decodable;     /* 1 when a decoder for the transfer syntax is available */
    uint64_t file_offset;   /* where the value starts in the file, for little-endian native data read
                               from disk and not loaded yet; 0 otherwise */
} cd_pixel_info;
int cd_get_pixel_info(cd_object *obj, cd_pixel_info *info, char *err, size_t errcap);

/* Decode all frames into out: frames*rows*cols samples of bits_allocated bits (8, 16 or 32), in the
 * host's byte order, exactly as stored (no masking, no rescale). */
int cd_decode_pixels(cd_object *obj, uint32_t frames, uint32_t rows, uint32_t cols, uint32_t bits_allocated,
                     void *out, size_t outcap, char *err, size_t errcap);

/* Writing: put a value (parsed according to the tag's VR from the data dictionary); sequence items
 * along the path are created as needed. */
int cd_put_string(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth,
                  const char *value, char *err, size_t errcap);
/* An OB value (private binary elements such as a CSA header), whatever the dictionary says. */
int cd_put_bytes(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, const uint8_t *data, size_t bytes,
                 char *err, size_t errcap);
int cd_put_pixels(cd_object *obj, const void *data, size_t bytes, uint32_t bits_allocated, char *err, size_t errcap);

/* Transfer syntaxes for cd_save. */
enum { CD_XFER_EXPLICIT_LE = 0, CD_XFER_IMPLICIT_LE = 1, CD_XFER_EXPLICIT_BE = 2, CD_XFER_DEFLATED = 3 };
/* Write a DICOM Part 10 file (meta header built from SOPClassUID and SOPInstanceUID). */
int cd_save(cd_object *obj, const char *path, int xfer, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
