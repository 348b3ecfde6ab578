import GameCore
import MatchContract
import NetProtocol
import Testing

/// The arena's worlds, tick by tick, are exactly what they were before the hot path was
/// reshaped (dictionary inputs to `TickInputs`, in-place history and projectiles, the 64-bit
/// `BitWriter`): a stable digest (FNV-1a over every entity's full encoding, 1,800 ticks of six
/// scripted players shooting and moving), recorded from the code before the change.
@Suite struct WorldDigestTests {
    /// Computed at commit 1f962e6 with the same script, before the rewrite.
    static let digestBeforeTheRewrite: UInt64 = 1_282_397_244_328_255_906

    @Test func theWorldDigestIsUnchangedAcrossTheRewrite() {
        let rules = ArenaRules()
        let settings = MatchSettings(maxPlayers: 8, tickRate: 60)
        var state = rules.initialState(settings: settings, seed: 11)
        var random = SeededRandomSource(seed: 11)
        for player in PlayerID(1)...6 { _ = rules.addPlayer(player, name: "p\(player)", to: &state, tick: 0) }
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        for tick in 1...1800 {
            var inputs: [PlayerID: ArenaRules.Input] = [:]
            for player in PlayerID(1)...6 { inputs[player] = scriptedInput(player: player, tick: tick, random: &random) }
            _ = rules.step(&state, inputs: TickInputs(inputs), tick: UInt32(tick))
            var writer = BitWriter()
            for entity in rules.entities(of: state) {
                writer.write(UInt64(entity.id), bits: 16)
                entity.writeFull(into: &writer)
            }
            for byte in writer.finish() { digest = (digest ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        #expect(digest == Self.digestBeforeTheRewrite)
    }
}
