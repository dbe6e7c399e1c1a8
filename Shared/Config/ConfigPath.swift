/// Pure string logic for the paths in a configuration file (no file system access).
///
/// Paths in the file are relative to the directory holding it (DESIGN.md section 5). `~` is not
/// expanded and symbolic links are not resolved: `..` removes the previous component as text.
public enum ConfigPath {
    /// Collapses `.`, `..` and repeated or trailing `/`.
    ///
    /// An absolute path stays absolute and `..` above the root stays at the root
    /// (`/../a` → `/a`); a relative path keeps its leading `..` (`a/../../b` → `../b`) and an
    /// empty result is `.`.
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".":
                continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !absolute {
                    parts.append(part)
                }
            default:
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// The normalized directory holding `file`: `/a/b/pipeline.toml` → `/a/b`.
    public static func directory(of file: String) -> String { normalize(file + "/..") }

    /// `path` made absolute against `directory` (unless it already is), then normalized.
    public static func resolve(_ path: String, against directory: String) -> String {
        normalize(path.hasPrefix("/") ? path : directory + "/" + path)
    }

    /// The last component of a normalized path; "" for `/`.
    public static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? ""
    }
}
