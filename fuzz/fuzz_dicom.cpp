// libFuzzer target over the CDicom shim's entry points: open (dcmtk's parser), attribute reads through
// sequences, pixel information and frame decoding (dcmtk's codecs and our OpenJPEG path), with the same
// size guards DicomPrep applies before allocating. Built and run by `make fuzz`.
#include "cdicom.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

static long number(cd_object *o, uint32_t tag) {
    char buf[64];
    size_t need = 0;
    uint32_t item = 0;
    if (cd_get_string(o, &tag, &item, 1, buf, sizeof buf, &need) != CD_OK) return -1;
    return std::strtol(buf, nullptr, 10);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static std::string path;
    if (path.empty()) {
        path = "/dev/shm/dicomprep-fuzz-" + std::to_string(getpid()) + ".dcm";
        cd_init();
    }
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);

    cd_object *o = nullptr;
    char err[512];
    if (cd_open(path.c_str(), &o, err, sizeof err) != CD_OK) return 0;

    const uint32_t tags[] = {0x00080016, 0x00080018, 0x0020000E, 0x00200013, 0x00200032, 0x00200037, 0x00280030,
                             0x00281050, 0x00281051, 0x00281052, 0x00281053, 0x00283002, 0x00283006, 0x0008103E};
    char buf[4096];
    size_t need = 0;
    uint32_t zero[4] = {0, 0, 0, 0};
    for (uint32_t t : tags) cd_get_string(o, &t, zero, 1, buf, sizeof buf, &need);
    const uint32_t perFrame[] = {0x52009230, 0x00209113, 0x00200032};
    const uint32_t shared[] = {0x52009229, 0x00289110, 0x00280030};
    const uint32_t lut[] = {0x00283000, 0x00283006};
    uint32_t items[3] = {1, 0, 0};
    cd_get_string(o, perFrame, items, 3, buf, sizeof buf, &need);
    cd_get_string(o, shared, zero, 3, buf, sizeof buf, &need);
    cd_get_string(o, lut, zero, 2, buf, sizeof buf, &need);
    uint32_t count = 0;
    cd_item_count(o, perFrame, zero, 1, &count);
    cd_transfer_syntax(o, buf, sizeof buf);

    long rows = number(o, 0x00280010), cols = number(o, 0x00280011), frames = number(o, 0x00280008), bits = number(o, 0x00280100);
    if (frames < 1) frames = 1;
    cd_pixel_info info;
    if (rows > 0 && cols > 0 && (bits == 8 || bits == 16 || bits == 32) && cd_get_pixel_info(o, &info, err, sizeof err) == CD_OK) {
        uint64_t needed = (uint64_t)rows * (uint64_t)cols * (uint64_t)frames * (uint64_t)(bits / 8);
        bool ok = needed <= (64u << 20) && (info.encapsulated ? (uint64_t)frames <= info.fragments && info.decodable
                                                               : info.length >= needed);
        if (ok) {
            std::vector<uint8_t> out(needed);
            cd_decode_pixels(o, (uint32_t)frames, (uint32_t)rows, (uint32_t)cols, (uint32_t)bits, out.data(), out.size(), err, sizeof err);
        }
    }
    cd_close(o);
    return 0;
}
