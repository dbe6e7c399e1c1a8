/// One part of a (possibly dotted) key, with where it is written.
struct KeyPart: Sendable, Equatable {
    var name: String
    var position: SourcePosition
}

/// A table while the document is being read: mutable, shared by reference, and aware of how
/// it was defined so that the TOML rules on redefinition can be enforced.
final class TableNode {
    enum Child {
        case table(TableNode)
        case tableArray(TableArrayNode)
        /// A finished value: scalars, static arrays and inline tables, none of which can grow.
        case value(TOMLValue)
    }

    struct Entry {
        var key: String
        var keyPosition: SourcePosition
        var child: Child
    }

    var origin: TOMLTable.Origin
    var position: SourcePosition
    /// Key path from the root, for messages: `stage.infer`, `feature[1]`.
    let path: String
    /// How many tables or arrays enclose this one; bounded so recursion stays shallow.
    let depth: Int
    private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]

    init(origin: TOMLTable.Origin, position: SourcePosition, path: String, depth: Int) {
        self.origin = origin
        self.position = position
        self.path = path
        self.depth = depth
    }

    func entry(_ key: String) -> Entry? { index[key].map { entries[$0] } }

    func add(_ key: KeyPart, _ child: Child) {
        index[key.name] = entries.count
        entries.append(Entry(key: key.name, keyPosition: key.position, child: child))
    }

    func childPath(_ key: String) -> String { TOMLPath.join(path, key) }

    /// The immutable table, recursively.
    func freeze() -> TOMLTable {
        TOMLTable(origin: origin, position: position, entries: entries.map { entry in
            let value: TOMLValue = switch entry.child {
            case .value(let value): value
            case .table(let table): TOMLValue(.table(table.freeze()), at: table.position)
            case .tableArray(let array):
                TOMLValue(.array(array.tables.map { element in
                    TOMLValue(.table(element.freeze()), at: element.position)
                }), at: array.position)
            }
            return TOMLTable.Entry(key: entry.key, keyPosition: entry.keyPosition, value: value)
        })
    }
}

/// The tables of one `[[name]]` array, in order.
final class TableArrayNode {
    let position: SourcePosition
    var tables: [TableNode] = []
    init(position: SourcePosition) { self.position = position }
}

/// Where tables and keys may be added: the redefinition rules of TOML 1.0.
///
/// - A `[header]` defines a table once; it may walk through tables of any kind, except inline
///   tables and static arrays, which are closed when written.
/// - A dotted key (`a.b = 1`) creates or walks through tables created by dotted keys only; it
///   cannot add to a table defined by a header.
/// - A key is defined once.
struct TOMLTableBuilder {
    let file: String

    /// Walks to the table `[keys]` names, creating implicit tables on the way, and defines it.
    func openTable(_ keys: [KeyPart], in root: TableNode, at header: SourcePosition)
        throws(ConfigError) -> TableNode
    {
        let parent = try walkHeader(keys.dropLast(), from: root)
        let last = keys[keys.count - 1]
        let path = parent.childPath(last.name)
        guard let existing = parent.entry(last.name) else {
            let table = TableNode(origin: .header, position: header, path: path,
                                  depth: parent.depth + 1)
            parent.add(last, .table(table))
            return table
        }
        switch existing.child {
        case .table(let table) where table.origin == .implicit:
            table.origin = .header
            table.position = header
            return table
        case .table(let table):
            let how = table.origin == .dotted ? "by dotted keys " : ""
            throw fail("table `[\(path)]` is already defined \(how)at \(table.position)",
                       at: header)
        case .tableArray(let array):
            throw fail("`\(path)` is already an array of tables (`[[\(path)]]` at "
                       + "\(array.position))", at: header)
        case .value(let value):
            throw fail("`\(path)` is already defined as \(value.typeNameWithArticle) at "
                       + "\(existing.keyPosition)", at: header)
        }
    }

    /// Walks to the array of tables `[[keys]]` names and appends a new table to it.
    func openArrayElement(_ keys: [KeyPart], in root: TableNode, at header: SourcePosition)
        throws(ConfigError) -> TableNode
    {
        let parent = try walkHeader(keys.dropLast(), from: root)
        let last = keys[keys.count - 1]
        let path = parent.childPath(last.name)
        let array: TableArrayNode
        switch parent.entry(last.name)?.child {
        case nil:
            array = TableArrayNode(position: header)
            parent.add(last, .tableArray(array))
        case .tableArray(let existing):
            array = existing
        case .table(let table):
            throw fail("cannot define `[[\(path)]]`: `\(path)` is already a table (at "
                       + "\(table.position))", at: header)
        case .value(let value):
            throw fail("cannot define `[[\(path)]]`: `\(path)` is already "
                       + "\(value.typeNameWithArticle) (at \(value.position))", at: header)
        }
        let table = TableNode(origin: .arrayElement, position: header,
                              path: "\(path)[\(array.tables.count)]", depth: parent.depth + 1)
        array.tables.append(table)
        return table
    }

    private func walkHeader(_ keys: ArraySlice<KeyPart>, from root: TableNode) throws(ConfigError)
        -> TableNode
    {
        var table = root
        for key in keys {
            switch table.entry(key.name)?.child {
            case nil:
                let child = TableNode(origin: .implicit, position: key.position,
                                      path: table.childPath(key.name), depth: table.depth + 1)
                table.add(key, .table(child))
                table = child
            case .table(let child):
                table = child
            case .tableArray(let array):
                table = array.tables[array.tables.count - 1]
            case .value(let value):
                let kind = value.table != nil ? "an inline table" : value.typeNameWithArticle
                throw fail("cannot add a table to `\(table.childPath(key.name))`: it is \(kind) "
                           + "(at \(value.position))", at: key.position)
            }
        }
        return table
    }

    /// Defines `keys = value` in `table`, creating the tables of a dotted key.
    func insert(_ keys: [KeyPart], _ value: TOMLValue, into table: TableNode) throws(ConfigError) {
        var table = table
        for key in keys.dropLast() {
            let path = table.childPath(key.name)
            switch table.entry(key.name)?.child {
            case nil:
                let child = TableNode(origin: table.origin == .inline ? .inline : .dotted,
                                      position: key.position, path: path, depth: table.depth + 1)
                table.add(key, .table(child))
                table = child
            case .table(let child) where child.origin == .dotted || child.origin == .inline:
                table = child
            case .table(let child):
                throw fail("cannot add keys to table `\(path)` with a dotted key: it is defined by "
                           + "a header (at \(child.position))", at: key.position)
            case .tableArray:
                throw fail("cannot add keys to `\(path)` with a dotted key: it is an array of "
                           + "tables", at: key.position)
            case .value(let existing):
                throw fail("cannot add keys to `\(path)`: it is already "
                           + "\(existing.typeNameWithArticle) (at \(existing.position))",
                           at: key.position)
            }
        }
        let last = keys[keys.count - 1]
        if let existing = table.entry(last.name) {
            throw fail("duplicate key `\(table.childPath(last.name))` (first defined at "
                       + "\(existing.keyPosition))", at: last.position)
        }
        table.add(last, .value(value))
    }

    private func fail(_ message: String, at position: SourcePosition) -> ConfigError {
        ConfigError(.syntax, file: file, position: position, message: message)
    }
}

/// Key paths as shown in messages.
enum TOMLPath {
    /// `parent.key`, quoting `key` when it is not a bare key.
    static func join(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? display(key) : parent + "." + display(key)
    }

    /// The key as it would be written: bare if it can be, else in double quotes.
    static func display(_ key: String) -> String {
        if !key.isEmpty && key.utf8.allSatisfy(Ascii.isBareKey) { return key }
        var out = "\""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + String(Ascii.codePoint(scalar.value).dropFirst(2))
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
