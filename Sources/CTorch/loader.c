/* Opens libdicomprep_torch.so at run time. */
#include "ctorch.h"
#include <dlfcn.h>
#include <stdio.h>

const ctorch_api *ctorch_load(const char *path, char *err, size_t errcap) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errcap, "cannot open the torch engine %s: %s", path, dlerror());
        return NULL;
    }
    const ctorch_api *(*get)(void) = (const ctorch_api *(*)(void))dlsym(h, "ctorch_get_api");
    if (!get) {
        snprintf(err, errcap, "%s is not a dicomprep torch engine (no ctorch_get_api)", path);
        return NULL;
    }
    const ctorch_api *api = get();
    if (!api || api->version != CTORCH_API_VERSION) {
        snprintf(err, errcap, "%s has API version %d, dicomprep needs %d: rebuild it with `make torch`", path,
                 api ? api->version : -1, CTORCH_API_VERSION);
        return NULL;
    }
    return api;
}
