/// "1 column", "3 columns": a count with its noun in the number that agrees, for error messages.
/// The engine depends on Kernels only, so this is its own copy of Messages' `counted`; both are
/// tested against the same cases.
///
/// - Parameter plural: the noun for any other count, when adding `-s` (`-es` after s, x, z, ch,
///   sh; `-ies` for a consonant and y) does not make it.
func counted(_ count: some BinaryInteger, _ singular: String, _ plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? singular : plural ?? pluralOf(singular))
}

/// The regular English plural of `noun`.
func pluralOf(_ noun: String) -> String {
    let last = noun.last
    if ["s", "x", "z"].contains(last) || noun.hasSuffix("ch") || noun.hasSuffix("sh") { return noun + "es" }
    if last == "y", let before = noun.dropLast().last, !"aeiou".contains(before) { return noun.dropLast() + "ies" }
    return noun + "s"
}
