import DicomPrep
print("placeholder")
