/// "1 batch", "3 batches": a count with its noun in the number that agrees, for messages.
///
/// - Parameters:
///   - count: how many.
///   - singular: the noun for one, e.g. `batch`.
///   - plural: the noun for any other count, when English's regular rule does not make it
///     (`-s`; `-es` after s, x, z, ch, sh; `-ies` for a consonant and y).
public func counted(_ count: some BinaryInteger, _ singular: String, _ plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? singular : plural ?? pluralOf(singular))
}

/// The regular English plural of `noun`.
func pluralOf(_ noun: String) -> String {
    let last = noun.last
    if ["s", "x", "z"].contains(last) || noun.hasSuffix("ch") || noun.hasSuffix("sh") { return noun + "es" }
    if last == "y", let before = noun.dropLast().last, !"aeiou".contains(before) { return noun.dropLast() + "ies" }
    return noun + "s"
}
