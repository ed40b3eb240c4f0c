/* Internal: dcmtk's JPEG and JPEG-LS decoders, opened (dlopen) and registered at first use. */
#ifndef CDICOM_CODECS_H
#define CDICOM_CODECS_H
#include <string>
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcxfer.h"

/* Whether dcmtk can decode an encapsulated transfer syntax, the JPEG and JPEG-LS decoders loaded first if need be. */
bool dcmtkDecodes(E_TransferSyntax x);
/* Why the decoders could not be loaded (empty when they were). */
std::string codecsError();
#endif
