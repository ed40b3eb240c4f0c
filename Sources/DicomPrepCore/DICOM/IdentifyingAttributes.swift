/// The one table of identifying attributes (PHI): what the parser keeps aside as `DicomInstance.identity`
/// (written only with --keep-phi), what name templates may use with --keep-phi, and whose values are
/// scrubbed from any text dicomprep writes (descriptions, labels, names) when a site typed them there.
public enum IdentifyingAttributes {
    public struct Attribute: Sendable {
        public var keyword: String
        public var tag: Tag
        /// Removed from free text. Off for short codes and ordinary words that would redact harmless text
        /// (PatientSex "M", PatientAge "045Y", times of day, StudyDescription "BRAIN").
        public var scrubbedFromText: Bool
    }

    public static let all: [Attribute] = [
        .init(keyword: "PatientName", tag: .patientName, scrubbedFromText: true),
        .init(keyword: "PatientID", tag: .patientID, scrubbedFromText: true),
        .init(keyword: "OtherPatientIDs", tag: .otherPatientIDs, scrubbedFromText: true),
        .init(keyword: "PatientBirthDate", tag: .patientBirthDate, scrubbedFromText: true),
        .init(keyword: "PatientSex", tag: .patientSex, scrubbedFromText: false),
        .init(keyword: "PatientAge", tag: .patientAge, scrubbedFromText: false),
        .init(keyword: "PatientAddress", tag: .patientAddress, scrubbedFromText: true),
        .init(keyword: "AccessionNumber", tag: .accessionNumber, scrubbedFromText: true),
        .init(keyword: "InstitutionName", tag: .institutionName, scrubbedFromText: true),
        .init(keyword: "InstitutionAddress", tag: .institutionAddress, scrubbedFromText: true),
        .init(keyword: "ReferringPhysicianName", tag: .referringPhysicianName, scrubbedFromText: true),
        .init(keyword: "PerformingPhysicianName", tag: .performingPhysicianName, scrubbedFromText: true),
        .init(keyword: "OperatorsName", tag: .operatorsName, scrubbedFromText: true),
        .init(keyword: "StationName", tag: .stationName, scrubbedFromText: true),
        .init(keyword: "DeviceSerialNumber", tag: .deviceSerialNumber, scrubbedFromText: true),
        .init(keyword: "StudyDate", tag: .studyDate, scrubbedFromText: true),
        .init(keyword: "SeriesDate", tag: .seriesDate, scrubbedFromText: true),
        .init(keyword: "AcquisitionDate", tag: .acquisitionDate, scrubbedFromText: true),
        .init(keyword: "AcquisitionDateTime", tag: .acquisitionDateTime, scrubbedFromText: true),
        .init(keyword: "StudyTime", tag: .studyTime, scrubbedFromText: false),
        .init(keyword: "SeriesTime", tag: .seriesTime, scrubbedFromText: false),
        .init(keyword: "AcquisitionTime", tag: .acquisitionTime, scrubbedFromText: false),
        .init(keyword: "StudyID", tag: .studyID, scrubbedFromText: true),
        .init(keyword: "StudyDescription", tag: .studyDescription, scrubbedFromText: false),
        .init(keyword: "StudyInstanceUID", tag: .studyInstanceUID, scrubbedFromText: true),
        .init(keyword: "SeriesInstanceUID", tag: .seriesInstanceUID, scrubbedFromText: true),
        .init(keyword: "SOPInstanceUID", tag: .sopInstanceUID, scrubbedFromText: true),
    ]

    /// Every keyword of the table.
    public static let keywords: Set<String> = Set(all.map(\.keyword))
    /// Keywords whose values are scrubbed from free text.
    public static let scrubbed: [String] = all.filter(\.scrubbedFromText).map(\.keyword)
}
