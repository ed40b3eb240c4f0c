// The DICOM data dictionary, read faster than dcmtk reads it. dcmtk parses every field of its
// dicom.dic (5,000 lines) with sscanf, about 75 million instructions: the largest fixed cost of a
// short run (a field map export is converted in less time than that). This reader makes the same
// entries (tag or tag range with its odd/even restriction, private creator, VR, name, VM, version)
// from one pass over the file, and dcmtk's own loader reads the file again if any line is not in
// the simple form handled here. cd_dictionary_check compares the result with dcmtk's loader.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dchashdi.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cdicom.h"
#include "dictionary.h"

namespace {

struct Cursor {
    const char *p, *end;
    bool atEnd() const { return p >= end; }
    void skipBlanks() { while (p < end && (*p == ' ' || *p == '\r')) p++; }
};

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool hex(Cursor &c, unsigned &v) {
    c.skipBlanks();
    int n = 0;
    v = 0;
    while (!c.atEnd() && hexDigit(*c.p) >= 0 && n < 4) { v = v * 16 + unsigned(hexDigit(*c.p)); c.p++; n++; }
    c.skipBlanks();
    return n > 0;
}

// One part of a tag ("0018", "6000-60FF", "6000-o-60FF"), as dcmtk's parseTagPart: a plain range
// means even values only, a restrictor letter (o, e, u) says odd, even or any.
bool tagPart(Cursor &c, unsigned &lo, unsigned &hi, DcmDictRangeRestriction &r) {
    r = DcmDictRange_Unspecified;
    if (!hex(c, lo)) return false;
    hi = lo;
    if (c.atEnd() || *c.p != '-') return true;
    c.p++;
    c.skipBlanks();
    if (c.end - c.p >= 2 && c.p[1] == '-') {
        switch (c.p[0]) {
        case 'o': case 'O': r = DcmDictRange_Odd; break;
        case 'e': case 'E': r = DcmDictRange_Even; break;
        case 'u': case 'U': r = DcmDictRange_Unspecified; break;
        default: return false;
        }
        c.p += 2;
    } else {
        r = DcmDictRange_Even;
    }
    return hex(c, hi);
}

bool number(Cursor &c, int &v) {
    int n = 0;
    v = 0;
    while (!c.atEnd() && *c.p >= '0' && *c.p <= '9') { v = v * 10 + (*c.p - '0'); c.p++; n++; }
    return n > 0;
}

// "1", "1-3", "1-n", "2-2n", "2n", "n", as dcmtk's parseVMField.
bool vmField(Cursor c, int &lo, int &hi) {
    auto isN = [](char ch) { return ch == 'n' || ch == 'N'; };
    if (!c.atEnd() && isN(*c.p) && c.end - c.p == 1) { lo = 1; hi = DcmVariableVM; return true; }
    if (!number(c, lo)) return false;
    if (c.atEnd()) { hi = lo; return true; }
    if (isN(*c.p) && c.end - c.p == 1) { hi = DcmVariableVM; return true; }
    if (*c.p != '-') return false;
    c.p++;
    if (!c.atEnd() && isN(*c.p) && c.end - c.p == 1) { hi = DcmVariableVM; return true; }
    int upper = 0;
    if (!number(c, upper)) return false;
    if (c.atEnd()) { hi = upper; return true; }
    if (isN(*c.p) && c.end - c.p == 1) { hi = DcmVariableVM; return true; }
    return false;
}

// Splits a line at tabs; the fields keep no surrounding blanks.
int fields(const char *line, const char *end, Cursor out[], int cap) {
    int n = 0;
    const char *s = line;
    while (n < cap) {
        const char *t = static_cast<const char *>(std::memchr(s, '\t', size_t(end - s)));
        const char *e = t ? t : end;
        Cursor f{s, e};
        f.skipBlanks();
        while (f.end > f.p && (f.end[-1] == ' ' || f.end[-1] == '\r')) f.end--;
        out[n++] = f;
        if (!t) return n;
        s = t + 1;
    }
    return n + 1;   // too many
}

// A field as a NUL-terminated string; false when it does not fit.
bool copyField(const Cursor &c, char *out, size_t cap) {
    size_t k = size_t(c.end - c.p);
    if (k >= cap) return false;
    std::memcpy(out, c.p, k);
    out[k] = 0;
    return true;
}

// A VR's code from its name. DcmVR's constructor from a name compares it with every VR's name in turn
// (~600 instructions, 5,000 times per dictionary); this table is built once from the same names. A name
// not in it goes to that constructor, which decides.
DcmEVR vrCode(const Cursor &c) {
    static const std::vector<std::pair<uint16_t, DcmEVR>> table = [] {
        std::vector<std::pair<uint16_t, DcmEVR>> t;
        for (int i = 0; i < int(EVR_UNKNOWN); i++) {
            DcmVR v{DcmEVR(i)};
            const char *name = v.getVRName();
            if (!name || std::strlen(name) != 2) continue;
            // Only names that map back to the same code (aliases are left to DcmVR).
            DcmVR back(name);
            if (back.getEVR() != DcmEVR(i)) continue;
            t.push_back({uint16_t(uint8_t(name[0]) << 8 | uint8_t(name[1])), DcmEVR(i)});
        }
        return t;
    }();
    if (c.end - c.p == 2) {
        uint16_t key = uint16_t(uint8_t(c.p[0]) << 8 | uint8_t(c.p[1]));
        for (const auto &e : table) if (e.first == key) return e.second;
    }
    char name[16];
    if (!copyField(c, name, sizeof name)) return EVR_UNKNOWN;
    return DcmVR(name).getEVR();
}

// One dictionary line; false when it is not in the form handled here.
bool entry(const char *line, const char *end, DcmDataDictionary &dict) {
    Cursor f[6];
    int n = fields(line, end, f, 6);
    if (n < 3 || n > 5) return false;
    Cursor tag = f[0];
    if (tag.atEnd() || *tag.p != '(' || tag.end[-1] != ')') return false;
    tag.p++;
    tag.end--;
    unsigned gl, gh, el, eh;
    DcmDictRangeRestriction gr, er;
    if (!tagPart(tag, gl, gh, gr) || tag.atEnd() || *tag.p != ',') return false;
    tag.p++;
    tag.skipBlanks();
    const char *creator = nullptr;
    size_t creatorLength = 0;
    if (!tag.atEnd() && *tag.p == '"') {
        const char *q = static_cast<const char *>(std::memchr(tag.p + 1, '"', size_t(tag.end - tag.p - 1)));
        if (!q) return false;
        creator = tag.p + 1;
        creatorLength = size_t(q - creator);
        tag.p = q + 1;
        tag.skipBlanks();
        if (tag.atEnd() || *tag.p != ',') return false;
        tag.p++;
    }
    if (!tagPart(tag, el, eh, er) || !tag.atEnd()) return false;
    // No whitespace inside VR, name, VM or version (dcmtk would strip it; none of its files has any).
    for (int i = 1; i < n; i++)
        for (const char *q = f[i].p; q < f[i].end; q++)
            if (*q == ' ') return false;
    int vmMin = 1, vmMax = 1;
    if (n >= 4 && !vmField(f[3], vmMin, vmMax)) return false;
    // Name, version and creator as C strings on the stack (the entry copies them).
    char name[256], version[64], creatorText[128];
    if (!copyField(f[2], name, sizeof name)) return false;
    if (n == 5) { if (!copyField(f[4], version, sizeof version)) return false; }
    else std::memcpy(version, "DICOM", 6);
    if (creatorLength >= sizeof creatorText) return false;
    std::memcpy(creatorText, creator, creatorLength);
    creatorText[creatorLength] = 0;
    DcmEVR evr = vrCode(f[1]);
    if (evr == EVR_UNKNOWN) return false;
    DcmVR vr(evr);
    DcmDictEntry *e = new DcmDictEntry(Uint16(gl), Uint16(el), Uint16(gh), Uint16(eh), vr, name, vmMin, vmMax,
                                       version, OFTrue, creatorLength == 0 ? nullptr : creatorText);
    e->setGroupRangeRestriction(gr);
    e->setElementRangeRestriction(er);
    dict.addEntry(e);
    return true;
}

std::string loadedFrom;

}  // namespace

bool cd_load_dictionary(DcmDataDictionary &dict, const char *path) {
    FILE *f = std::fopen(path, "rb");
    if (!f) return false;
    std::vector<char> text;
    if (std::fseek(f, 0, SEEK_END) == 0) {
        long size = std::ftell(f);
        if (size > 0) text.reserve(size_t(size));
        std::fseek(f, 0, SEEK_SET);
    }
    char buf[65536];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.insert(text.end(), buf, buf + got);
    std::fclose(f);
    bool simple = true;
    const char *p = text.data(), *end = p + text.size();
    while (p < end) {
        const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
        const char *e = nl ? nl : end;
        const char *q = p;
        while (q < e && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < e && *q != '#' && !entry(p, e, dict)) simple = false;
        p = nl ? nl + 1 : end;
    }
    // A line this reader does not take: dcmtk's own loader reads the whole file (same entries replace).
    if (!simple && !dict.loadDictionary(path, OFTrue)) return false;
    loadedFrom = path;
    return true;
}

extern "C" long cd_dictionary_check(char *err, size_t errcap) {
    auto fail = [&](const std::string &m) {
        if (err && errcap) std::snprintf(err, errcap, "%s", m.c_str());
        return -1L;
    };
    try {
        cd_init();
        if (loadedFrom.empty()) return fail("the fast dictionary reader was not used (DCMDICTPATH set, or no dictionary file)");
        DcmDataDictionary reference(OFFalse, OFFalse);
        if (!reference.loadDictionary(loadedFrom.c_str(), OFTrue)) return fail("dcmtk cannot read " + loadedFrom);
        const DcmDataDictionary &ours = dcmDataDict.rdlock();
        long compared = 0;
        std::string problem;
        auto same = [&](const DcmDictEntry *a, const DcmDictEntry *b) {
            char key[64];
            std::snprintf(key, sizeof key, "(%04x,%04x)", a->getGroup(), a->getElement());
            if (!b) { problem = std::string("missing ") + key; return false; }
            bool ok = a->getUpperGroup() == b->getUpperGroup() && a->getUpperElement() == b->getUpperElement()
                && a->getEVR() == b->getEVR() && a->getVMMin() == b->getVMMin() && a->getVMMax() == b->getVMMax()
                && std::strcmp(a->getTagName(), b->getTagName()) == 0
                && std::strcmp(a->getStandardVersion(), b->getStandardVersion()) == 0
                && a->getGroupRangeRestriction() == b->getGroupRangeRestriction()
                && a->getElementRangeRestriction() == b->getElementRangeRestriction()
                && ((!a->getPrivateCreator() && !b->getPrivateCreator())
                    || (a->getPrivateCreator() && b->getPrivateCreator() && std::strcmp(a->getPrivateCreator(), b->getPrivateCreator()) == 0));
            if (!ok) problem = std::string("different ") + key + " " + a->getTagName();
            return ok;
        };
        long normal = 0;
        for (DcmHashDictIterator it = reference.normalBegin(); it != reference.normalEnd(); ++it) {
            const DcmDictEntry *a = *it;
            if (!same(a, ours.findEntry(a->getKey(), a->getPrivateCreator()))) break;
            normal++;
        }
        if (problem.empty()) {
            long ourNormal = 0;
            for (DcmHashDictIterator it = const_cast<DcmDataDictionary &>(ours).normalBegin(); it != const_cast<DcmDataDictionary &>(ours).normalEnd(); ++it) ourNormal++;
            if (ourNormal != normal) problem = "normal entries: " + std::to_string(ourNormal) + " here, " + std::to_string(normal) + " by dcmtk";
        }
        if (problem.empty()) {
            DcmDictEntryListIterator a = reference.repeatingBegin(), b = const_cast<DcmDataDictionary &>(ours).repeatingBegin();
            DcmDictEntryListIterator ae = reference.repeatingEnd(), be = const_cast<DcmDataDictionary &>(ours).repeatingEnd();
            for (; a != ae && b != be; ++a, ++b) {
                if (!same(*a, *b)) break;
                compared++;
            }
            if (problem.empty() && (a != ae || b != be)) problem = "repeating entries differ in number";
        }
        dcmDataDict.rdunlock();
        if (!problem.empty()) return fail(problem);
        return normal + compared;
    } catch (...) {
        return fail("internal error");
    }
}
