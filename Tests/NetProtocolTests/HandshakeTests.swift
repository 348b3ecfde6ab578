import NetProtocol
import Testing

@Suite struct HandshakeTests {
    @Test func clientConnectsExchangesPayloadsAndDisconnects() throws {
        let harness = try TransportHarness()
        let token = try harness.makeToken(clientID: 42, userData: [9, 8, 7])
        harness.addClient(token: token)
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        #expect(harness.server.connectedClientCount == 1)
        let clientIndex = try #require(harness.server.connectedClientIndices.first)
        #expect(harness.server.clientID(of: clientIndex) == 42)
        #expect(harness.server.userData(of: clientIndex)?.prefix(4) == [9, 8, 7, 0])
        #expect(harness.server.userData(of: clientIndex)?.count == 256)

        harness.clients[0].endpoint.send([1, 2, 3], now: harness.now, sink: &harness.clients[0].sink)
        harness.server.send([4, 5], to: clientIndex, now: harness.now, sink: &harness.serverSink)
        harness.flush()
        harness.run(seconds: 0.1)
        #expect(harness.serverEvents.contains(.serverPayload(clientIndex: clientIndex, bytes: [1, 2, 3])))
        #expect(harness.clientEvents[0].contains(.clientPayload(bytes: [4, 5])))

        harness.clients[0].endpoint.disconnect(now: harness.now, sink: &harness.clients[0].sink)
        harness.flush()
        harness.run(seconds: 0.1)
        #expect(harness.server.connectedClientCount == 0)
        #expect(harness.serverEvents.contains(.disconnected(clientIndex: clientIndex, clientID: 42, reason: .peerDisconnected)))
        #expect(harness.state(0) == .disconnected)
    }

    @Test func keepAlivesHoldAnIdleConnectionPastTheTimeout() throws {
        let harness = try TransportHarness()
        harness.addClient(token: try harness.makeToken(clientID: 1, timeoutSeconds: 2))
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        harness.run(seconds: 10)
        #expect(harness.state(0) == .connected)
        #expect(harness.server.connectedClientCount == 1)
    }

    @Test func serverDisconnectIsSeenByTheClient() throws {
        let harness = try TransportHarness()
        harness.addClient(token: try harness.makeToken(clientID: 1))
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        harness.server.disconnectAll(now: harness.now, sink: &harness.serverSink)
        harness.flush()
        harness.run(seconds: 0.1)
        #expect(harness.state(0) == .disconnected)
        #expect(harness.serverEvents.contains(.disconnected(clientIndex: 0, clientID: 1, reason: .serverShutdown)))
    }

    @Test func bothSidesTimeOutWhenTheLinkDies() throws {
        let harness = try TransportHarness()
        harness.addClient(token: try harness.makeToken(clientID: 1, timeoutSeconds: 3))
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        let cut = harness.time
        harness.link.conditions.loss = 1
        #expect(harness.run(forAtMost: 10) { harness.state(0) == .connectionTimedOut })
        // Within the timeout plus a tick or two of virtual time, never early.
        #expect(harness.time - cut >= 3 && harness.time - cut <= 3.2)
        #expect(harness.server.connectedClientCount == 0)
        #expect(harness.serverEvents.contains(.disconnected(clientIndex: 0, clientID: 1, reason: .timedOut)))
    }

    @Test func requestTimesOutWhenNothingAnswers() throws {
        let harness = try TransportHarness()
        harness.link.conditions.loss = 1
        harness.addClient(token: try harness.makeToken(clientID: 1, timeoutSeconds: 2))
        #expect(harness.run(forAtMost: 5) { harness.state(0) == .requestTimedOut })
        #expect(harness.time >= 2 && harness.time <= 2.1)
    }

    @Test func responseTimesOutWhenTheChallengeIsAnsweredIntoTheVoid() throws {
        let harness = try TransportHarness()
        harness.addClient(token: try harness.makeToken(clientID: 1, timeoutSeconds: 2))
        // Let the request and challenge through, then cut the link.
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .sendingResponse })
        harness.link.conditions.loss = 1
        harness.link.clear()
        #expect(harness.run(forAtMost: 5) { harness.state(0) == .responseTimedOut })
    }

    @Test func tokenLifetimeRunsOutWhileConnecting() throws {
        let harness = try TransportHarness()
        harness.link.conditions.loss = 1
        harness.addClient(token: try harness.makeToken(clientID: 1, expireSeconds: 3, timeoutSeconds: -1))
        #expect(harness.run(forAtMost: 10) { harness.state(0) == .tokenExpired })
        #expect(harness.time >= 3 && harness.time <= 3.1)
    }

    @Test func clientFallsThroughToTheNextServerAddress() throws {
        let harness = try TransportHarness()
        let dead = NetAddress(ipv4: 127, 0, 0, 9, port: 1)
        harness.addClient(token: try harness.makeToken(clientID: 1, timeoutSeconds: 1, addresses: [dead, harness.serverAddress]))
        #expect(harness.run(forAtMost: 3) { harness.state(0) == .connected })
        #expect(harness.clients[0].endpoint.serverAddress == harness.serverAddress)
    }

    @Test func connectsThroughABadLink() throws {
        // 250 ms latency with 250 ms jitter, 5 % loss, 10 % duplicates, some reordering.
        let conditions = LinkConditions(latency: 0.25, jitter: 0.25, loss: 0.05, duplicate: 0.10, reorder: 0.05)
        for seed in UInt64(1)...5 {
            let harness = try TransportHarness(conditions: conditions, seed: seed)
            for clientID in UInt64(1)...4 { harness.addClient(token: try harness.makeToken(clientID: clientID, timeoutSeconds: 10)) }
            #expect(harness.run(forAtMost: 10) { harness.clients.indices.allSatisfy { harness.state($0) == .connected } }, "seed \(seed)")
            #expect(harness.server.connectedClientCount == 4)
            // Payloads flow both ways under the same conditions; duplicates never get through twice.
            for round in 0..<100 {
                for index in harness.clients.indices {
                    harness.clients[index].endpoint.send([UInt8(index), UInt8(round)], now: harness.now, sink: &harness.clients[index].sink)
                }
                harness.step()
            }
            harness.run(seconds: 2)
            let received = harness.serverEvents.compactMap { event -> [UInt8]? in
                if case .serverPayload(_, let bytes) = event { return bytes } else { return nil }
            }
            #expect(Set(received).count == received.count, "a duplicate was delivered (seed \(seed))")
            #expect(received.count >= 330 && received.count <= 400, "seed \(seed): \(received.count)")
            #expect(harness.server.counters[drop: .replayed] > 0, "duplicates were not caught by the window (seed \(seed))")
            #expect(harness.clients.indices.allSatisfy { harness.state($0) == .connected })
        }
    }

    @Test func manyClientsBeyondTheReferenceLimit() throws {
        let harness = try TransportHarness(maxClients: 1000, tick: 0.05)
        for clientID in UInt64(1)...600 { harness.addClient(token: try harness.makeToken(clientID: clientID)) }
        #expect(harness.run(forAtMost: 2) { harness.clients.indices.allSatisfy { harness.state($0) == .connected } })
        #expect(harness.server.connectedClientCount == 600)
        #expect(Set(harness.server.connectedClientIndices).count == 600)
    }
}
