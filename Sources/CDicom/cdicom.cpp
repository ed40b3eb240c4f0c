// dcmtk shim: the only code that calls dcmtk. Every entry point catches all C++ exceptions.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcistrmf.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dccodec.h"
#include "dcmtk/oflog/oflog.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>
#include <mutex>
#include <string>
#include <vector>
#include <exception>

#include "cdicom.h"
#include "codecs.h"
#include "j2k.h"
#include "dictionary.h"

struct cd_object {
    DcmFileFormat file;
    bool fromDisk = false;
    // The dataset's top-level elements sorted by tag, made on the first lookup: dcmtk finds an element
    // by walking its list from the start, thousands of instructions in a vendor header of hundreds of
    // elements, and a file is asked for ~50. Dropped whenever the dataset is changed.
    std::vector<std::pair<uint32_t, DcmElement *>> index;
    bool indexed = false;
    // A small file read whole and parsed from memory: where its native PixelData value starts in the file
    // (0: not located), so frames can be read from there again later as for files parsed from disk.
    uint64_t pixelOffset = 0;
};

static void setErr(char *err, size_t cap, const std::string &msg) {
    if (!err || cap == 0) return;
    std::snprintf(err, cap, "%s", msg.c_str());
}

#define CD_GUARD_BEGIN try {
#define CD_GUARD_END                                                             \
    }                                                                            \
    catch (const std::exception &e) {                                            \
        setErr(err, errcap, std::string("internal error: ") + e.what());         \
        return CD_ERROR;                                                         \
    }                                                                            \
    catch (...) {                                                                \
        setErr(err, errcap, "internal error: unknown exception");                \
        return CD_ERROR;                                                         \
    }

extern "C" void cd_init(void) {
    static std::once_flag once;
    try {
        std::call_once(once, [] {
            // Start-up: only the standard dictionary (dicomprep reads no private tag by name), not the
            // private one too, read by the fast reader (dictionary.cpp); dcmtk itself loads nothing
            // (DCMDICTPATH of empty entries). A user's DCMDICTPATH is left to dcmtk.
            if (!std::getenv("DCMDICTPATH")) {
                std::string first = DCM_DICT_DEFAULT_PATH;
                first = first.substr(0, first.find(ENVIRONMENT_PATH_SEPARATOR));
                if (FILE *f = std::fopen(first.c_str(), "r")) {
                    std::fclose(f);
                    const char empty[] = {ENVIRONMENT_PATH_SEPARATOR, 0};
                    setenv("DCMDICTPATH", empty, 0);
                    DcmDataDictionary &dict = dcmDataDict.wrlock();
                    if (!cd_load_dictionary(dict, first.c_str())) {
                        setenv("DCMDICTPATH", first.c_str(), 1);
                        dict.reloadDictionaries(OFTrue, OFTrue);
                    }
                    dcmDataDict.wrunlock();
                    // The dictionary is made once; programs started from here (dcmtk's tools) must not inherit this.
                    unsetenv("DCMDICTPATH");
                }
            }
            OFLog::configure(OFLogger::OFF_LOG_LEVEL);
            // Elements written with VR UN (explicit VR files from some archives) get their dictionary VR.
            dcmEnableUnknownVRConversion.set(OFTrue);
            // JPEG and JPEG-LS: registered when the first such file is met (codecs.cpp).
            DcmRLEDecoderRegistration::registerCodecs();
        });
    } catch (...) {
    }
}

// Hands a read dataset to the caller, or turns the reading status into a message and frees it.
static int finishOpen(cd_object *obj, OFCondition c, bool fromDisk, cd_object **out, char *err, size_t errcap) {
    if (c == EC_StreamNotifyClient || c == EC_InvalidStream) {
        setErr(err, errcap, std::string("truncated: the ") + (fromDisk ? "file ends" : "data end") + " before its declared data (" + c.text() + ")");
        delete obj;
        return CD_ERROR;
    }
    if (c.bad()) {
        setErr(err, errcap, std::string("not a readable DICOM ") + (fromDisk ? "file" : "dataset") + " (" + c.text() + ")");
        delete obj;
        return CD_ERROR;
    }
    obj->fromDisk = fromDisk;
    *out = obj;
    return CD_OK;
}

// Files up to this size are read with one read() and parsed from memory. dcmtk's file stream asks stdio for the
// position and the end of file around every element it reads, each call taking the FILE lock: a third of
// dcmtk's cost on the small files of EPI, DWI and field-map exports (64x64 and 128x128 slices). Larger files,
// whose PixelData dcmtk then need not read at all, go through dcmtk's file stream.
static const off_t kSmallFile = 64 << 10;

static bool readSmallFile(const char *path, std::vector<char> &buf) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= kSmallFile;
    size_t total = 0;
    if (ok) {
        buf.resize((size_t)st.st_size);
        while (total < buf.size()) {
            ssize_t r = read(fd, buf.data() + total, buf.size() - total);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            total += (size_t)r;
        }
        ok = total == buf.size();
    }
    close(fd);
    return ok;
}

static DcmPixelData *pixelData(cd_object *obj);

// Parses a whole DICOM file or dataset held in memory into obj. Every value is read now: a buffer stream
// cannot be reopened later for values left unread.
static OFCondition readFromMemory(cd_object *obj, const void *data, size_t len) {
    DcmInputBufferStream in;
    in.setBuffer(data, (offile_off_t)len);
    in.setEos();
    obj->file.transferInit();
    OFCondition c = obj->file.read(in, EXS_Unknown, EGL_noChange, 0xFFFFFFFE);
    obj->file.transferEnd();
    return c;
}

// Where the native little-endian PixelData value of a file parsed from memory starts in the file: at the end
// (PixelData is the last element), checked against the element's header just before it and against the
// value dcmtk read. 0 when it is elsewhere (a trailing element), encapsulated or big-endian.
static uint64_t locatePixels(cd_object *obj, const std::vector<char> &buf) {
    DcmPixelData *pd = pixelData(obj);
    if (!pd) return 0;
    DcmXfer xf(obj->file.getDataset()->getOriginalXfer());
    if (xf.isEncapsulated() || xf.getByteOrder() != EBO_LittleEndian || xf.getStreamCompression() != ESC_none) return 0;
    const Uint32 len = pd->getLength();
    const size_t size = buf.size();
    if (len == 0 || len > size || gLocalByteOrder != EBO_LittleEndian) return 0;
    const size_t off = size - len;
    const unsigned char *b = reinterpret_cast<const unsigned char *>(buf.data());
    auto le32 = [&](size_t at) { return (Uint32)b[at] | ((Uint32)b[at + 1] << 8) | ((Uint32)b[at + 2] << 16) | ((Uint32)b[at + 3] << 24); };
    auto isPixelTag = [&](size_t at) { return b[at] == 0xE0 && b[at + 1] == 0x7F && b[at + 2] == 0x10 && b[at + 3] == 0x00; };
    // Explicit VR: tag, "OW" or "OB", two reserved bytes, 32-bit length; implicit VR: tag, 32-bit length.
    const bool header = xf.isExplicitVR()
        ? off >= 12 && isPixelTag(off - 12) && b[off - 8] == 'O' && (b[off - 7] == 'W' || b[off - 7] == 'B') && b[off - 6] == 0 && b[off - 5] == 0 && le32(off - 4) == len
        : off >= 8 && isPixelTag(off - 8) && le32(off - 4) == len;
    if (!header) return 0;
    Uint8 *v = nullptr;
    if (pd->getUint8Array(v).bad() || !v || std::memcmp(v, b + off, len) != 0) return 0;
    return (uint64_t)off;
}

extern "C" int cd_open(const char *path, cd_object **out, char *err, size_t errcap) {
    *out = nullptr;
    CD_GUARD_BEGIN
    cd_init();
    thread_local std::vector<char> small;
    if (readSmallFile(path, small)) {
        cd_object *obj = new cd_object();
        if (readFromMemory(obj, small.data(), small.size()).good()) {
            obj->fromDisk = true;
            obj->pixelOffset = locatePixels(obj, small);
            *out = obj;
            return CD_OK;
        }
        // Damaged: dcmtk reads the file itself below, for the same message as any other file.
        delete obj;
    }
    cd_object *obj = new cd_object();
    OFCondition c = obj->file.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
    return finishOpen(obj, c, true, out, err, errcap);
    CD_GUARD_END
}

extern "C" int cd_open_memory(const void *data, size_t len, cd_object **out, char *err, size_t errcap) {
    *out = nullptr;
    CD_GUARD_BEGIN
    cd_init();
    cd_object *obj = new cd_object();
    OFCondition c = readFromMemory(obj, data, len);
    return finishOpen(obj, c, false, out, err, errcap);
    CD_GUARD_END
}

extern "C" void cd_keep_freed_buffers(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

extern "C" void cd_return_freed_memory(void) {
    malloc_trim(0);
}

extern "C" int cd_new(cd_object **out) {
    try {
        cd_init();
        *out = new cd_object();
        return CD_OK;
    } catch (...) {
        *out = nullptr;
        return CD_ERROR;
    }
}

extern "C" void cd_close(cd_object *obj) {
    try {
        delete obj;
    } catch (...) {
    }
}

static DcmTagKey keyOf(uint32_t t) { return DcmTagKey((Uint16)(t >> 16), (Uint16)(t & 0xFFFF)); }

// A top-level element of the dataset by binary search in the object's index, or null.
static DcmElement *topLevel(cd_object *obj, uint32_t tag) {
    if (!obj->indexed) {
        obj->index.clear();
        DcmDataset *ds = obj->file.getDataset();
        for (DcmObject *o = ds->nextInContainer(nullptr); o; o = ds->nextInContainer(o)) {
            DcmTagKey k = o->getTag();
            obj->index.emplace_back(((uint32_t)k.getGroup() << 16) | k.getElement(), static_cast<DcmElement *>(o));
        }
        std::stable_sort(obj->index.begin(), obj->index.end(),
                         [](const std::pair<uint32_t, DcmElement *> &a, const std::pair<uint32_t, DcmElement *> &b) { return a.first < b.first; });
        obj->indexed = true;
    }
    auto it = std::lower_bound(obj->index.begin(), obj->index.end(), tag,
                               [](const std::pair<uint32_t, DcmElement *> &a, uint32_t t) { return a.first < t; });
    return it != obj->index.end() && it->first == tag ? it->second : nullptr;
}

// Walks the sequence items of a tag path; returns the item that holds the last tag.
static DcmItem *walk(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, bool create) {
    if (depth < 1) return nullptr;
    DcmItem *cur = obj->file.getDataset();
    if (depth == 1 && (tags[0] >> 16) == 0x0002) cur = obj->file.getMetaInfo();
    for (int i = 0; i < depth - 1; i++) {
        DcmItem *next = nullptr;
        if (i == 0 && !create) {
            DcmElement *el = topLevel(obj, tags[0]);
            if (!el || el->ident() != EVR_SQ) return nullptr;
            next = static_cast<DcmSequenceOfItems *>(el)->getItem((unsigned long)items[0]);
            if (!next) return nullptr;
            cur = next;
            continue;
        }
        OFCondition c = create ? cur->findOrCreateSequenceItem(DcmTag(keyOf(tags[i])), next, (signed long)items[i])
                               : cur->findAndGetSequenceItem(keyOf(tags[i]), next, (signed long)items[i]);
        if (c.bad() || !next) return nullptr;
        cur = next;
    }
    return cur;
}

// The element a tag path addresses, or null when any step is missing.
static DcmElement *element(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth) {
    if (depth == 1 && (tags[0] >> 16) != 0x0002) return topLevel(obj, tags[0]);
    DcmItem *item = walk(obj, tags, items, depth, false);
    DcmElement *el = nullptr;
    if (!item || item->findAndGetElement(keyOf(tags[depth - 1]), el, OFFalse).bad()) return nullptr;
    return el;
}

// The sequence a tag path addresses, or null when it is missing or not a sequence.
static DcmSequenceOfItems *sequence(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth) {
    DcmElement *el = element(obj, tags, items, depth);
    return el && el->ident() == EVR_SQ ? static_cast<DcmSequenceOfItems *>(el) : nullptr;
}

// The text of a character-string element as dcmtk's getOFStringArray(normalize) gives it, in one pass over
// the stored value: dcmtk counts the values, then finds each one from the start and copies it, thousands of
// instructions for one short text, and a file is asked for ~50. Multi-valued VRs lose the spaces before and
// after each value; LT, ST, UT and UR (one value, leading spaces significant) only the trailing ones. False for
// any other VR (numbers, bytes), which go through dcmtk. cd_text_check compares both ways on whole files.
static bool fastText(DcmElement *el, std::string &out) {
    bool multi;
    switch (el->ident()) {
    case EVR_AE: case EVR_AS: case EVR_CS: case EVR_DA: case EVR_DS: case EVR_DT: case EVR_IS:
    case EVR_LO: case EVR_PN: case EVR_SH: case EVR_TM: case EVR_UI: case EVR_UC:
        multi = true;
        break;
    case EVR_LT: case EVR_ST: case EVR_UT: case EVR_UR:
        multi = false;
        break;
    default:
        return false;
    }
    char *p = nullptr;
    Uint32 len = 0;
    if (static_cast<DcmByteString *>(el)->getString(p, len).bad()) return false;
    out.clear();
    if (!p) return true;
    if (!multi) {
        while (len > 0 && p[len - 1] == ' ') len--;
        out.assign(p, len);
        return true;
    }
    out.reserve(len);
    const char *v = p, *end = p + len;
    while (true) {
        const char *e = static_cast<const char *>(std::memchr(v, '\\', (size_t)(end - v)));
        const char *stop = e ? e : end;
        const char *a = v, *b = stop;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        out.append(a, (size_t)(b - a));
        if (!e) break;
        out.push_back('\\');
        v = e + 1;
    }
    return true;
}

// The element's text: the fast reading for character strings, dcmtk's formatting for everything else.
static bool textOf(DcmElement *el, std::string &out) {
    if (fastText(el, out)) return true;
    OFString s;
    if (el->getOFStringArray(s, OFTrue).bad()) return false;
    out.assign(s.c_str(), s.length());
    return true;
}

extern "C" int cd_get_string(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, char *buf,
                             size_t cap, size_t *needed) {
    char *err = nullptr;
    size_t errcap = 0;
    CD_GUARD_BEGIN
    if (needed) *needed = 0;
    if (cap > 0) buf[0] = 0;
    DcmElement *el = element(obj, tags, items, depth);
    if (!el || el->getLength() == 0) return CD_ABSENT;
    thread_local std::string s;
    if (!textOf(el, s)) return CD_ABSENT;
    if (needed) *needed = s.length();
    if (cap > 0) {
        size_t n = s.length() < cap - 1 ? s.length() : cap - 1;
        std::memcpy(buf, s.data(), n);
        buf[n] = 0;
    }
    return CD_OK;
    CD_GUARD_END
}

extern "C" long cd_text_check(cd_object *obj, char *err, size_t errcap) {
    CD_GUARD_BEGIN
    long compared = 0;
    DcmStack stack;
    DcmDataset *ds = obj->file.getDataset();
    std::string fast;
    while (ds->nextObject(stack, OFTrue).good()) {
        DcmObject *o = stack.top();
        if (!o->isLeaf() || o->ident() == EVR_item) continue;
        DcmElement *el = static_cast<DcmElement *>(o);
        if (el->getLength() == 0 || !fastText(el, fast)) continue;
        OFString ref;
        bool ok = el->getOFStringArray(ref, OFTrue).good();
        if (!ok || fast.size() != ref.length() || std::memcmp(fast.data(), ref.c_str(), fast.size()) != 0) {
            char tag[32];
            std::snprintf(tag, sizeof tag, "(%04X,%04X) %s", o->getGTag(), o->getETag(), DcmVR(o->ident()).getVRName());
            setErr(err, errcap, std::string(tag) + ": \"" + fast + "\" where dcmtk gives " + (ok ? "\"" + std::string(ref.c_str(), ref.length()) + "\"" : "an error"));
            return -1;
        }
        compared++;
    }
    return compared;
    CD_GUARD_END
}

extern "C" int cd_get_integer(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, int64_t *out) {
    char *err = nullptr;
    size_t errcap = 0;
    CD_GUARD_BEGIN
    *out = 0;
    DcmElement *el = element(obj, tags, items, depth);
    if (!el || el->getLength() == 0) return CD_ABSENT;
    switch (el->ident()) {
    case EVR_US: { Uint16 v = 0; if (el->getUint16(v).bad()) return CD_ABSENT; *out = v; return CD_OK; }
    case EVR_SS: { Sint16 v = 0; if (el->getSint16(v).bad()) return CD_ABSENT; *out = v; return CD_OK; }
    case EVR_UL: { Uint32 v = 0; if (el->getUint32(v).bad()) return CD_ABSENT; *out = v; return CD_OK; }
    case EVR_SL: { Sint32 v = 0; if (el->getSint32(v).bad()) return CD_ABSENT; *out = v; return CD_OK; }
    case EVR_SV: { Sint64 v = 0; if (el->getSint64(v).bad()) return CD_ABSENT; *out = v; return CD_OK; }
    case EVR_UV: { Uint64 v = 0; if (el->getUint64(v).bad() || v > (Uint64)INT64_MAX) return CD_UNSUPPORTED; *out = (int64_t)v; return CD_OK; }
    default: return CD_UNSUPPORTED;
    }
    CD_GUARD_END
}

extern "C" int cd_get_bytes(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, uint8_t *buf,
                            size_t cap, size_t *needed, char *vr) {
    char *err = nullptr;
    size_t errcap = 0;
    CD_GUARD_BEGIN
    if (needed) *needed = 0;
    if (vr) { vr[0] = 0; }
    DcmElement *el = element(obj, tags, items, depth);
    if (!el || el->getLength() == 0 || el->ident() == EVR_SQ) return CD_ABSENT;
    if (vr) { std::snprintf(vr, 3, "%s", DcmVR(el->getVR()).getVRName()); }
    const Uint8 *data = nullptr;
    size_t n = 0;
    std::string text;
    if (el->isaString()) {
        char *s = nullptr;
        if (el->getString(s).bad() || !s) return CD_ABSENT;
        text.assign(s, el->getLength());
        data = reinterpret_cast<const Uint8 *>(text.data());
        n = text.size();
    } else {
        // Binary VRs: dcmtk keeps values in the host's byte order; x86_64 and arm64 are little-endian.
        Uint8 *raw = nullptr;
        if (el->getUint8Array(raw).good() && raw) {
            data = raw;
        } else {
            Uint16 *w = nullptr; Float32 *f = nullptr; Float64 *d = nullptr; Sint32 *sl = nullptr; Uint32 *ul = nullptr; Sint16 *ss = nullptr;
            if (el->getUint16Array(w).good() && w) data = reinterpret_cast<Uint8 *>(w);
            else if (el->getSint16Array(ss).good() && ss) data = reinterpret_cast<Uint8 *>(ss);
            else if (el->getFloat32Array(f).good() && f) data = reinterpret_cast<Uint8 *>(f);
            else if (el->getFloat64Array(d).good() && d) data = reinterpret_cast<Uint8 *>(d);
            else if (el->getSint32Array(sl).good() && sl) data = reinterpret_cast<Uint8 *>(sl);
            else if (el->getUint32Array(ul).good() && ul) data = reinterpret_cast<Uint8 *>(ul);
        }
        if (!data) return CD_ABSENT;
        n = el->getLength();
    }
    if (needed) *needed = n;
    if (cap > 0 && buf) std::memcpy(buf, data, n < cap ? n : cap);
    return CD_OK;
    CD_GUARD_END
}

// Walks sequence items from `start` along a relative path; returns the item that holds the last tag.
static DcmItem *walkFrom(DcmItem *start, const uint32_t *tags, const uint32_t *items, int depth) {
    DcmItem *cur = start;
    for (int i = 0; i < depth - 1 && cur; i++) {
        DcmItem *next = nullptr;
        if (cur->findAndGetSequenceItem(keyOf(tags[i]), next, (signed long)items[i]).bad()) return nullptr;
        cur = next;
    }
    return cur;
}

extern "C" void cd_free(void *p) { std::free(p); }

extern "C" int cd_sequence_strings(cd_object *obj, const uint32_t *seq_tags, const uint32_t *seq_items, int seq_depth,
                                   const uint32_t *rel_tags, const uint32_t *rel_items, const int *rel_depths, int npaths,
                                   char **out, size_t *out_len, uint8_t **present, uint32_t *count) {
    char *err = nullptr;
    size_t errcap = 0;
    CD_GUARD_BEGIN
    *out = nullptr; *out_len = 0; *present = nullptr; *count = 0;
    DcmSequenceOfItems *seq = sequence(obj, seq_tags, seq_items, seq_depth);
    if (!seq) return CD_ABSENT;
    const unsigned long n = seq->card();
    std::string text;
    std::vector<uint8_t> has(n * (size_t)npaths, 0);
    DcmObject *obj_i = nullptr;
    unsigned long i = 0;
    while ((obj_i = seq->nextInContainer(obj_i)) != nullptr && i < n) {
        DcmItem *item = static_cast<DcmItem *>(obj_i);
        size_t off = 0;
        for (int p = 0; p < npaths; p++) {
            int d = rel_depths[p];
            DcmItem *at = walkFrom(item, rel_tags + off, rel_items + off, d);
            DcmElement *v = nullptr;
            OFString s;
            if (at && at->findAndGetElement(keyOf(rel_tags[off + d - 1]), v, OFFalse).good() && v && v->getLength() > 0 &&
                v->ident() != EVR_SQ && v->getOFStringArray(s, OFTrue).good()) {
                has[i * npaths + p] = 1;
                text.append(s.c_str(), s.length());
            }
            text.push_back('\0');
            off += d;
        }
        i++;
    }
    *out = static_cast<char *>(std::malloc(text.size() + 1));
    *present = static_cast<uint8_t *>(std::malloc(has.size() + 1));
    if (!*out || !*present) { std::free(*out); std::free(*present); *out = nullptr; *present = nullptr; return CD_ERROR; }
    std::memcpy(*out, text.data(), text.size());
    std::memcpy(*present, has.data(), has.size());
    *out_len = text.size();
    *count = (uint32_t)i;
    return CD_OK;
    CD_GUARD_END
}

extern "C" int cd_item_count(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, uint32_t *count) {
    char *err = nullptr;
    size_t errcap = 0;
    CD_GUARD_BEGIN
    *count = 0;
    DcmSequenceOfItems *seq = sequence(obj, tags, items, depth);
    if (!seq) return CD_ABSENT;
    *count = (uint32_t)seq->card();
    return CD_OK;
    CD_GUARD_END
}

extern "C" int cd_transfer_syntax(cd_object *obj, char *buf, size_t cap) {
    char *err = nullptr;
    size_t errcap = 0;
    CD_GUARD_BEGIN
    if (cap > 0) buf[0] = 0;
    E_TransferSyntax x = obj->file.getDataset()->getOriginalXfer();
    if (x == EXS_Unknown) return CD_ABSENT;
    DcmXfer xf(x);
    std::snprintf(buf, cap, "%s", xf.getXferID());
    return CD_OK;
    CD_GUARD_END
}

static bool isJ2K(E_TransferSyntax x) {
    return x == EXS_JPEG2000LosslessOnly || x == EXS_JPEG2000 || x == EXS_JPEG2000MulticomponentLosslessOnly ||
           x == EXS_JPEG2000Multicomponent;
}

static DcmPixelData *pixelData(cd_object *obj) {
    DcmElement *el = nullptr;
    if (obj->file.getDataset()->findAndGetElement(DCM_PixelData, el, OFFalse).bad() || !el) return nullptr;
    if (el->ident() != EVR_PixelData) return nullptr;
    return static_cast<DcmPixelData *>(el);
}

static DcmPixelSequence *encapsulated(DcmPixelData *pd, E_TransferSyntax x) {
    DcmPixelSequence *seq = nullptr;
    const DcmRepresentationParameter *rp = nullptr;
    if (pd->getEncapsulatedRepresentation(x, rp, seq).bad()) return nullptr;
    return seq;
}

extern "C" int cd_get_pixel_info(cd_object *obj, cd_pixel_info *info, char *err, size_t errcap) {
    CD_GUARD_BEGIN
    std::memset(info, 0, sizeof(*info));
    DcmPixelData *pd = pixelData(obj);
    if (!pd) {
        setErr(err, errcap, "no PixelData");
        return CD_ABSENT;
    }
    E_TransferSyntax x = obj->file.getDataset()->getOriginalXfer();
    DcmXfer xf(x);
    if (xf.isEncapsulated()) {
        info->encapsulated = 1;
        info->length = 0xFFFFFFFFu;
        DcmPixelSequence *seq = encapsulated(pd, x);
        if (seq && seq->card() > 0) info->fragments = (uint32_t)(seq->card() - 1);
        info->decodable = (isJ2K(x) || dcmtkDecodes(x)) ? 1 : 0;
    } else {
        info->length = pd->getLength();
        info->decodable = 1;
        // Little-endian native data not loaded yet: where its value starts in the file, so frames can be
        // read straight from there later without parsing the file again.
        const DcmInputStreamFactory *f = pd->getInputStream();
        if (xf.getByteOrder() == EBO_LittleEndian && xf.getStreamCompression() == ESC_none && !pd->valueLoaded() && f
            && f->ident() == DFT_DcmInputFileStreamFactory && obj->fromDisk) {
            info->file_offset = (uint64_t)static_cast<const DcmInputFileStreamFactory *>(f)->getOffset();
        } else if (obj->pixelOffset > 0 && obj->fromDisk) {
            info->file_offset = obj->pixelOffset;
        }
    }
    return CD_OK;
    CD_GUARD_END
}

// Collects the compressed bytes of each frame from the fragments of an encapsulated PixelData.
static bool framesOf(DcmPixelSequence *seq, uint32_t frames, std::vector<std::vector<Uint8>> &out, std::string &why) {
    unsigned long n = seq->card();
    if (n < 2) {
        why = "encapsulated PixelData has no fragments";
        return false;
    }
    std::vector<std::pair<Uint8 *, Uint32>> frags;
    for (unsigned long i = 1; i < n; i++) {
        DcmPixelItem *it = nullptr;
        if (seq->getItem(it, i).bad() || !it) {
            why = "cannot read a compressed fragment";
            return false;
        }
        Uint8 *p = nullptr;
        Uint32 len = it->getLength();
        if (len > 0 && (it->getUint8Array(p).bad() || !p)) {
            why = "cannot read a compressed fragment";
            return false;
        }
        frags.push_back({p, len});
    }
    out.assign(frames, {});
    if (frames == 1) {
        for (auto &f : frags) out[0].insert(out[0].end(), f.first, f.first + f.second);
        return true;
    }
    // Basic Offset Table, when present.
    DcmPixelItem *bot = nullptr;
    std::vector<Uint32> offsets;
    if (seq->getItem(bot, 0).good() && bot && bot->getLength() >= 4 * frames) {
        Uint8 *p = nullptr;
        if (bot->getUint8Array(p).good() && p) {
            for (uint32_t k = 0; k < frames; k++) {
                Uint32 v;
                std::memcpy(&v, p + 4 * k, 4);
                if (gLocalByteOrder == EBO_BigEndian) v = ((v & 0xFF) << 24) | ((v & 0xFF00) << 8) | ((v >> 8) & 0xFF00) | (v >> 24);
                offsets.push_back(v);
            }
        }
    }
    if (!offsets.empty()) {
        uint64_t pos = 0;
        for (auto &f : frags) {
            uint32_t k = 0;
            while (k + 1 < frames && pos >= offsets[k + 1]) k++;
            out[k].insert(out[k].end(), f.first, f.first + f.second);
            pos += 8 + (uint64_t)f.second;
        }
    } else if (frags.size() == frames) {
        for (uint32_t k = 0; k < frames; k++) out[k].assign(frags[k].first, frags[k].first + frags[k].second);
    } else {
        // No offset table: a fragment that starts a codestream (J2K SOC / JP2 signature) starts a frame.
        int k = -1;
        for (auto &f : frags) {
            bool start = f.second >= 4 && ((f.first[0] == 0xFF && f.first[1] == 0x4F && f.first[2] == 0xFF && f.first[3] == 0x51) ||
                                           (f.second >= 8 && f.first[4] == 'j' && f.first[5] == 'P'));
            if (start || k < 0) k++;
            if (k >= (int)frames) {
                why = "more compressed frames than NumberOfFrames";
                return false;
            }
            out[k].insert(out[k].end(), f.first, f.first + f.second);
        }
        if (k + 1 != (int)frames) {
            why = "fewer compressed frames than NumberOfFrames";
            return false;
        }
    }
    return true;
}

// dcmtk 3.6.7's DJCodecDecoder::scanJpegDataForBitDepth walks the marker segments of a JPEG stream to find
// its frame header and never advances past a TEM marker (0xFF01): a crafted stream makes it loop forever
// (found by fuzzing). This walks the same way and says whether that scan would get stuck.
static bool jpegBitDepthScanWouldHang(const Uint8 *d, Uint32 n) {
    Uint32 off = 0;
    while (off + 4 < n) {
        unsigned v = (unsigned(d[off]) << 8) | d[off + 1];
        unsigned len = (unsigned(d[off + 2]) << 8) | d[off + 3];
        if ((v >= 0xffc0 && v <= 0xffcf) && v != 0xffc4 && v != 0xffc8 && v != 0xffcc) return false; // SOF: found
        if (v == 0xff01) return true;                                                               // TEM: stuck
        if (v == 0xffc4 || v == 0xffc8 || v == 0xffcc || (v >= 0xffda && v <= 0xffdf) || (v >= 0xffe0 && v <= 0xfffe))
            off += len + 2;
        else if ((v >= 0xffd0 && v <= 0xffd9)) off += 2;
        else if (v == 0xffff) off += 1;
        else if (d[off] == 0xff && d[off + 1] > 2 && d[off + 1] <= 0xbf) off += 2;
        else return false; // dcmtk stops at an invalid marker
    }
    return false;
}

static bool isDcmtkJPEG(const char *uid) {
    std::string u(uid ? uid : "");
    const std::string p = "1.2.840.10008.1.2.4.";
    if (u.compare(0, p.size(), p) != 0) return false;
    int n = std::atoi(u.c_str() + p.size());
    return n >= 50 && n <= 70;
}

static const char *xferName(E_TransferSyntax x) {
    DcmXfer xf(x);
    return xf.getXferName();
}

extern "C" int cd_decode_pixels(cd_object *obj, uint32_t frames, uint32_t rows, uint32_t cols, uint32_t bits,
                                void *out, size_t outcap, char *err, size_t errcap) {
    CD_GUARD_BEGIN
    obj->indexed = false;  // decoders may replace elements (PhotometricInterpretation, ...)
    if (bits != 8 && bits != 16 && bits != 32) {
        setErr(err, errcap, "BitsAllocated " + std::to_string(bits) + " is not supported");
        return CD_UNSUPPORTED;
    }
    const uint64_t frameBytes = (uint64_t)rows * cols * (bits / 8);
    const uint64_t total = frameBytes * frames;
    if (total > outcap) {
        setErr(err, errcap, "output buffer too small");
        return CD_ERROR;
    }
    DcmDataset *ds = obj->file.getDataset();
    DcmPixelData *pd = pixelData(obj);
    if (!pd) {
        setErr(err, errcap, "no PixelData");
        return CD_ABSENT;
    }
    E_TransferSyntax x = ds->getOriginalXfer();
    DcmXfer xf(x);
    if (xf.isEncapsulated()) {
        if (isJ2K(x)) {
            DcmPixelSequence *seq = encapsulated(pd, x);
            if (!seq) {
                setErr(err, errcap, "JPEG 2000 PixelData is not encapsulated correctly");
                return CD_ERROR;
            }
            std::vector<std::vector<Uint8>> fr;
            std::string why;
            if (!framesOf(seq, frames, fr, why)) {
                setErr(err, errcap, "JPEG 2000: " + why);
                return CD_ERROR;
            }
            for (uint32_t k = 0; k < frames; k++) {
                char msg[512] = {0};
                int rc = cd_j2k_decode(fr[k].data(), fr[k].size(), rows, cols, bits,
                                       (uint8_t *)out + k * frameBytes, msg, sizeof msg);
                if (rc != CD_OK) {
                    setErr(err, errcap, std::string("JPEG 2000 frame ") + std::to_string(k + 1) + ": " + msg);
                    return rc;
                }
            }
            return CD_OK;
        }
        if (!dcmtkDecodes(x)) {
            const std::string why = codecsError();
            setErr(err, errcap, std::string("transfer syntax ") + xf.getXferID() + " (" + xferName(x) + ") has no decoder" +
                                    (why.empty() ? "" : " (" + why + ")"));
            return CD_UNSUPPORTED;
        }
        if (isDcmtkJPEG(xf.getXferID())) {
            DcmPixelSequence *seq = encapsulated(pd, x);
            if (!seq) {
                setErr(err, errcap, "JPEG PixelData is not encapsulated correctly");
                return CD_ERROR;
            }
            for (unsigned long i = 1; i < seq->card(); i++) {
                DcmPixelItem *it = nullptr;
                Uint8 *p = nullptr;
                if (seq->getItem(it, i).good() && it && it->getLength() > 0 && it->getUint8Array(p).good() && p &&
                    jpegBitDepthScanWouldHang(p, it->getLength())) {
                    setErr(err, errcap, "corrupt JPEG stream: a TEM marker stands where the frame header should be");
                    return CD_ERROR;
                }
            }
        }
        OFCondition c = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (c.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
            setErr(err, errcap, std::string("decoding ") + xferName(x) + " failed (" + c.text() + ")");
            return CD_ERROR;
        }
        pd = pixelData(obj);
        if (!pd) {
            setErr(err, errcap, "no PixelData after decoding");
            return CD_ERROR;
        }
    }
    Uint32 len = pd->getLength();
    if ((uint64_t)len < total) {
        setErr(err, errcap, "PixelData is shorter than Rows x Columns x frames (" + std::to_string(len) + " of " +
                                std::to_string(total) + " bytes)");
        return CD_ERROR;
    }
    if (bits == 8) {
        Uint8 *p = nullptr;
        if (pd->getUint8Array(p).bad() || !p) {
            setErr(err, errcap, "cannot read PixelData");
            return CD_ERROR;
        }
        std::memcpy(out, p, total);
    } else {
        Uint16 *p = nullptr;
        if (pd->getUint16Array(p).bad() || !p) {
            setErr(err, errcap, "cannot read PixelData");
            return CD_ERROR;
        }
        std::memcpy(out, p, total);
    }
    return CD_OK;
    CD_GUARD_END
}

extern "C" int cd_put_string(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, const char *value,
                             char *err, size_t errcap) {
    CD_GUARD_BEGIN
    obj->indexed = false;
    DcmItem *item = walk(obj, tags, items, depth, true);
    if (!item) {
        setErr(err, errcap, "cannot create the sequence item");
        return CD_ERROR;
    }
    OFCondition c = item->putAndInsertString(DcmTag(keyOf(tags[depth - 1])), value);
    if (c.bad()) {
        setErr(err, errcap, c.text());
        return CD_ERROR;
    }
    return CD_OK;
    CD_GUARD_END
}

extern "C" int cd_put_bytes(cd_object *obj, const uint32_t *tags, const uint32_t *items, int depth, const uint8_t *data,
                            size_t bytes, char *err, size_t errcap) {
    CD_GUARD_BEGIN
    obj->indexed = false;
    DcmItem *item = walk(obj, tags, items, depth, true);
    if (!item) {
        setErr(err, errcap, "cannot create the sequence item");
        return CD_ERROR;
    }
    OFCondition c = item->putAndInsertUint8Array(DcmTag(keyOf(tags[depth - 1]), EVR_OB), data, (unsigned long)bytes);
    if (c.bad()) {
        setErr(err, errcap, c.text());
        return CD_ERROR;
    }
    return CD_OK;
    CD_GUARD_END
}

extern "C" int cd_put_pixels(cd_object *obj, const void *data, size_t bytes, uint32_t bits, char *err, size_t errcap) {
    CD_GUARD_BEGIN
    obj->indexed = false;
    DcmDataset *ds = obj->file.getDataset();
    OFCondition c;
    if (bits == 8)
        c = ds->putAndInsertUint8Array(DCM_PixelData, (const Uint8 *)data, (unsigned long)bytes);
    else
        c = ds->putAndInsertUint16Array(DCM_PixelData, (const Uint16 *)data, (unsigned long)(bytes / 2));
    if (c.bad()) {
        setErr(err, errcap, c.text());
        return CD_ERROR;
    }
    return CD_OK;
    CD_GUARD_END
}

extern "C" int cd_save(cd_object *obj, const char *path, int xfer, char *err, size_t errcap) {
    CD_GUARD_BEGIN
    E_TransferSyntax x = EXS_LittleEndianExplicit;
    switch (xfer) {
    case CD_XFER_IMPLICIT_LE: x = EXS_LittleEndianImplicit; break;
    case CD_XFER_EXPLICIT_BE: x = EXS_BigEndianExplicit; break;
    case CD_XFER_DEFLATED: x = EXS_DeflatedLittleEndianExplicit; break;
    default: break;
    }
    OFCondition c = obj->file.saveFile(OFFilename(path), x, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                                       EWM_fileformat);
    if (c.bad()) {
        setErr(err, errcap, c.text());
        return CD_ERROR;
    }
    return CD_OK;
    CD_GUARD_END
}
