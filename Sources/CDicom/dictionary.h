// Internal to the dcmtk shim: the fast data dictionary reader (dictionary.cpp).
#ifndef CDICOM_DICTIONARY_H
#define CDICOM_DICTIONARY_H
class DcmDataDictionary;
// Adds the entries of a dcmtk dictionary file to dict; false when the file cannot be read.
bool cd_load_dictionary(DcmDataDictionary &dict, const char *path);
#endif
