import Foundation

/// Parses one JSON line with Foundation's strict parser (tests only).
enum JSONLine {
    static func parse(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let dictionary = object as? [String: Any] else { throw TestFailure("not an object: \(line)") }
        return dictionary
    }
}
