/// The terminal control sequences `pipeline top` draws with: plain ANSI/VT100 ones that every
/// terminal emulator, tmux and screen understand (no terminfo lookup, no colours).
enum TopScreen {
    /// Switches to the alternate screen (the shell's screen comes back on `leave`), hides the
    /// cursor and clears.
    static let enter = "\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J"
    /// Shows the cursor and goes back to the normal screen.
    static let leave = "\u{1B}[?25h\u{1B}[?1049l"

    /// The bytes that draw `lines` (each at most `width` characters, at most `height` of them)
    /// over the previous frame: cursor home, each line followed by erase-to-end-of-line, then
    /// erase below. Nothing is cleared first, so the screen does not flicker.
    ///
    /// A line that fills the width gets no erase: the cursor then still sits on its last cell
    /// (the wrap is pending) and the erase would take that character. For the same reason the
    /// last line is not followed by a line feed when the frame fills the height: that would
    /// scroll the screen.
    static func frame(_ lines: [String], width: Int, height: Int) -> String {
        var out = "\u{1B}[H"
        for (i, line) in lines.enumerated() {
            if i > 0 { out += "\r\n" }
            out += line
            if line.count < width { out += "\u{1B}[K" }
        }
        if lines.count < height { out += (lines.isEmpty ? "" : "\r\n") + "\u{1B}[J" }
        return out
    }
}
