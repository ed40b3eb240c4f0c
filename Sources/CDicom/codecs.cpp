// dcmtk's JPEG and JPEG-LS decoders, opened at the first file that needs them.
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dccodec.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"

#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <mutex>
#include <string>

#include "codecs.h"

// dcmtk's JPEG and JPEG-LS decoders (libdcmjpeg with the IJG libraries and libdcmimgle, libdcmjpls with CharLS)
// are opened at first use (dlopen), not linked: seven shared objects that every run loaded and relocated,
// CharLS filling its tables in a static constructor, about 1.5 ms of each start though most exports hold no
// JPEG file. The registration functions are dcmtk's own (C++ names, from the headers compiled against).
static std::once_flag codecsOnce;
static std::string loadError;

// A codec library of the same dcmtk as the libdcmdata this process runs with: from the same folder and with the
// same version suffix (libdcmdata.so.17 -> libdcmjpeg.so.17), so that a different dcmtk installed beside it is
// never mixed in; the unversioned name (the -dev package's link) only when that is not found.
static int findDcmdata(struct dl_phdr_info *info, size_t, void *out) {
    const char *name = info->dlpi_name;
    if (name && std::strstr(name, "/libdcmdata.so")) {
        *static_cast<std::string *>(out) = name;
        return 1;
    }
    return 0;
}

static void *openCodecLibrary(const char *name) {
    std::string dir, suffix = ".so", loaded;
    dl_iterate_phdr(findDcmdata, &loaded);
    if (!loaded.empty()) {
        size_t slash = loaded.rfind('/'), so = loaded.rfind(".so");
        dir = loaded.substr(0, slash + 1);
        suffix = loaded.substr(so);
    }
    std::string tried = dir + name + suffix;
    void *h = dlopen(tried.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!h) h = dlopen((std::string(name) + ".so").c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        const char *why = dlerror();
        loadError += std::string(loadError.empty() ? "" : "; ") + "cannot open " + tried + " (" + (why ? why : "not found") + ")";
    }
    return h;
}

static void loadCodecs() {
    std::call_once(codecsOnce, [] {
        if (void *h = openCodecLibrary("libdcmjpeg")) {
            typedef void (*Register)(E_DecompressionColorSpaceConversion, E_UIDCreation, E_PlanarConfiguration, OFBool, OFBool, OFBool);
            if (auto r = reinterpret_cast<Register>(dlsym(h, "_ZN21DJDecoderRegistration14registerCodecsE35E_DecompressionColorSpaceConversion13E_UIDCreation21E_PlanarConfigurationbbb")))
                r(EDC_photometricInterpretation, EUC_default, EPC_default, OFFalse, OFFalse, OFFalse);
            else
                loadError += std::string(loadError.empty() ? "" : "; ") + "libdcmjpeg has no DJDecoderRegistration::registerCodecs of this dcmtk version";
        }
        if (void *h = openCodecLibrary("libdcmjpls")) {
            typedef void (*Register)(JLS_UIDCreation, JLS_PlanarConfiguration, OFBool, OFBool);
            if (auto r = reinterpret_cast<Register>(dlsym(h, "_ZN23DJLSDecoderRegistration14registerCodecsE15JLS_UIDCreation23JLS_PlanarConfigurationbb")))
                r(EJLSUC_default, EJLSPC_restore, OFFalse, OFFalse);
            else
                loadError += std::string(loadError.empty() ? "" : "; ") + "libdcmjpls has no DJLSDecoderRegistration::registerCodecs of this dcmtk version";
        }
    });
}

// Whether dcmtk can decode an encapsulated transfer syntax (JPEG and JPEG-LS loaded first if need be).
bool dcmtkDecodes(E_TransferSyntax x) {
    if (DcmCodecList::canChangeCoding(x, EXS_LittleEndianExplicit)) return true;
    loadCodecs();
    return DcmCodecList::canChangeCoding(x, EXS_LittleEndianExplicit);
}

std::string codecsError() {
    loadCodecs();
    return loadError;
}
