import Config
import Testing
@testable import ControlCore

@Suite struct RestartHistoryTests {
    @Test func restartBackoffGrowsWithQuickCrashesInARow() {
        var h = RestartHistory()
        let spec = StageSpec(replicas: 1, maxRestarts: 5, restartWindowSeconds: 10)
        var delays: [UInt64] = []
        for i in 0..<3 {
            let now = UInt64(i) * 1_000_000_000
            let allowed = h.crashed(now: now, spec: spec, jitter: 0.5, quick: true)
            #expect(allowed)
            delays.append(h.notBefore - now)
        }
        #expect(delays == [50_000_000, 100_000_000, 200_000_000], "a crash loop backs off exponentially")
        let afterALife = h.crashed(now: 3_000_000_000, spec: spec, jitter: 0.5, quick: false)
        #expect(afterALife && h.notBefore - 3_000_000_000 == 25_000_000, "a replica that ran a while is replaced at once")
        let again = h.crashed(now: 3_500_000_000, spec: spec, jitter: 0.5, quick: true)
        #expect(again && h.notBefore - 3_500_000_000 == 50_000_000, "and the loop count starts over")
        let sixth = h.crashed(now: 4_000_000_000, spec: spec, jitter: 0.5)
        #expect(!sixth, "6 crashes within 10 s exceed max 5")
        var jittered = RestartHistory()
        _ = jittered.crashed(now: 0, spec: spec, jitter: 0)
        let low = jittered.notBefore
        _ = jittered.crashed(now: 0, spec: spec, jitter: 1)
        #expect(low == 20_000_000 && jittered.notBefore == 30_000_000, "±20% jitter")
        var capped = RestartHistory()
        let wide = StageSpec(replicas: 1, maxRestarts: 100, restartWindowSeconds: 10)
        for _ in 0..<20 { _ = capped.crashed(now: 0, spec: wide, jitter: 1, quick: true) }
        #expect(capped.notBefore == 5_000_000_000 * 6 / 5, "capped at 5 s (+20%)")
        var spread = RestartHistory()
        for i in 0..<10 {
            let allowed = spread.crashed(now: UInt64(i) * 11_000_000_000, spec: spec, jitter: 0)
            #expect(allowed, "crashes further apart than the window never add up")
        }
        var data = RestartHistory()
        for i in 0..<10 {
            let allowed = data.crashed(now: UInt64(i), spec: spec, jitter: 0, counts: false)
            #expect(allowed, "crashes blamed on a poison record do not count toward the limit")
        }
    }
}
