import Messages

/// A string column of `values` (offsets and bytes), with `missing` flags.
public func stringColumn(_ values: [String], missing: [Bool] = []) -> Column {
    var offsets: [UInt32] = [0]
    var bytes: [UInt8] = []
    for v in values {
        bytes += Array(v.utf8)
        offsets.append(UInt32(bytes.count))
    }
    return Column(.string(offsets: offsets, bytes: bytes), missing: missing)
}
