/* Opens libdicomprep_torch.so at run time. */
#include "ctorch.h"
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

const ctorch_api *ctorch_load(const char *path, char *err, size_t errcap) {
    /* Measured on predict (8 synthetic heads, 2 cores): OpenMP threads that sleep between parallel regions
     * instead of spinning, and freed memory kept for the next window instead of returned to the kernel and
     * faulted in again, took 48 s down to 31 s. libgomp reads its variable when it is loaded, with libtorch,
     * just below; a user's own setting wins. Setting those malloc parameters also stops glibc from raising its
     * mmap threshold as large blocks are freed, so every tensor above 128 KiB was mapped and faulted in anew:
     * a 96^3 batch-2 UNet training step took 1.8-1.9 s, against 1.2-1.3 s with no settings and 1.07-1.11 s with
     * this one (same engine from C++, 2 cores). The threshold is therefore set
     * to glibc's own ceiling (32 MiB on 64-bit), where its dynamic rule would take it: blocks up to that size
     * are reused from the heap. Larger ones (a 96^3 patch's 16-channel activations are 57 MB at batch 1) were
     * still mapped and returned at once, so each step faulted them in again (sys time about half the wall
     * time): with no mapped blocks at all (M_MMAP_MAX 0; they come from the heap and stay there), a batch-1
     * step took 1.14-1.15 s against 1.47-1.70 s and a window 294-332 ms against 357-379 ms on this machine. */
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_MMAP_MAX, 0);
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
