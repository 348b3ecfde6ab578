// One end of a channel connection (docs/PROTOCOL.md, "Channel packet"): packet
// acknowledgements, the four channel kinds, fragments of large messages, resends on the
// RTT-derived delay, statistics, the per-tick byte budget and an optional bandwidth limit.
// Sans-IO, like NetProtocol's ChannelConnection, which it follows decision for decision so that
// both build the same packets from the same traffic (the known-answer vectors check this).
//
// Each tick: feed every received packet to handlePacket(bytes, now), read messages with
// receive(channel), queue new ones with send(bytes, channel), then call generatePackets(now)
// and send every packet it returns. If `fault` becomes non-null the peer broke the protocol.

import {
  ByteReader, ByteWriter, MAX_ENTRY_HEADER_BYTES, MAX_HEADER_BYTES, entryHeaderBytes, readEntry, readHeader, writeEntry,
  writeHeader,
} from './channel-wire.js';

export const ChannelKind = Object.freeze({
  reliableOrdered: 'reliable_ordered',
  reliableUnordered: 'reliable_unordered',
  unreliableUnordered: 'unreliable_unordered',
  unreliableSequenced: 'unreliable_sequenced',
});

const isReliableKind = (kind) => kind === ChannelKind.reliableOrdered || kind === ChannelKind.reliableUnordered;

/** `a` is newer than `b` when it is ahead by 1...32767 (16-bit, wrapping). */
export function isNewer(a, b) {
  const difference = (a - b) & 0xffff;
  return difference !== 0 && difference < 0x8000;
}

/** How far `a` is ahead of `base`, 0 ..< 65536. */
export function distance(a, base) { return (a - base) & 0xffff; }

/** Settings with NetProtocol's defaults (ConnectionConfiguration); both ends must agree. */
export function connectionConfiguration(options = {}) {
  const channels = options.channels ?? Object.values(ChannelKind).map((kind) => channelConfiguration({ kind }));
  return {
    channels,
    maxPacketBytes: 1200,
    fragmentBytes: 384,
    budgetBytesPerTick: 8 * 1024,
    bandwidthBytesPerSecond: null,
    minimumResendDelay: 0.03,
    maximumResendDelay: 1.0,
    initialResendDelay: 0.1,
    sentPacketHistory: 1024,
    receivedPacketHistory: 1024,
    maxReassemblyBytes: 2 * 1024 * 1024,
    memoryBudgetBytes: 4 * 1024 * 1024,
    overBudgetGraceSeconds: 2,
    ...options,
    channels,
  };
}

export function channelConfiguration({ kind, sendQueueSize = 1024, receiveQueueSize = 1024, maxMessageBytes = 256 * 1024 }) {
  return { kind, sendQueueSize, receiveQueueSize, maxMessageBytes };
}

/** Why a message could not be queued. */
export class ChannelSendError extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'ChannelSendError';
    this.reason = reason;
  }
}

/** Protocol violations, spelled as NetProtocol's ChannelFault describes them. */
const Fault = {
  malformedPacket: () => ({ kind: 'malformed_packet', description: 'malformed_packet' }),
  invalidFragment: (channel) => ({ kind: 'invalid_fragment', description: `invalid_fragment(channel ${channel})` }),
  oversizedMessage: (channel, bytes) => ({
    kind: 'oversized_message', description: `oversized_message(channel ${channel}, ${bytes} bytes)`,
  }),
  outsideWindow: (channel, id) => ({
    kind: 'message_id_outside_window', description: `message_id_outside_window(channel ${channel}, id ${id})`,
  }),
  inconsistentFragments: (channel, id) => ({
    kind: 'inconsistent_fragments', description: `inconsistent_fragments(channel ${channel}, id ${id})`,
  }),
  overBudget: () => ({ kind: 'over_budget', description: 'over_budget' }),
};

/** Bookkeeping a queued or held reliable part costs beyond its payload. */
const PART_OVERHEAD_BYTES = 32;
const UNRELIABLE_OVERHEAD_BYTES = 16;
const IP_UDP_OVERHEAD = 28;
const RTT_SAMPLE_WINDOW = 128;
const WHOLE_MESSAGE = 0xffff;
const EMPTY_TAG = -1;

const reassemblyCharge = (fragments, fragmentBytes) => fragments * fragmentBytes + fragments + PART_OVERHEAD_BYTES;

/** A first-in first-out queue. */
class Queue {
  constructor() {
    this.items = [];
    this.head = 0;
  }
  get count() { return this.items.length - this.head; }
  get first() { return this.count > 0 ? this.items[this.head] : undefined; }
  push(item) { this.items.push(item); }
  popFirst() {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  removeAll() {
    this.items = [];
    this.head = 0;
  }
}

/**
 * A ring of `capacity` slots indexed by sequence modulo the capacity that remembers which
 * sequence each slot holds (NetProtocol's SequenceBuffer at full size): an entry from a lap ago is
 * never taken for the current one.
 */
class SequenceRing {
  constructor(capacity) {
    this.tags = new Int32Array(capacity).fill(EMPTY_TAG);
    this.elements = new Array(capacity);
    this.mask = capacity - 1;
  }
  get(sequence) {
    const index = sequence & this.mask;
    return this.tags[index] === sequence ? this.elements[index] : undefined;
  }
  has(sequence) { return this.tags[sequence & this.mask] === sequence; }
  insert(sequence, element) {
    const index = sequence & this.mask;
    this.tags[index] = sequence;
    this.elements[index] = element;
    return element;
  }
  remove(sequence) {
    const index = sequence & this.mask;
    if (this.tags[index] === sequence) {
      this.tags[index] = EMPTY_TAG;
      this.elements[index] = undefined;
    }
  }
}

/**
 * What sent packets carried, one entry per reliable message or fragment, in a ring shared by all
 * packets that doubles (up to eight entries per remembered packet) rather than lap an entry of a
 * packet whose fate is open. An ack for a packet whose entries were lapped acknowledges nothing;
 * its messages go again on their timers.
 */
class SentEntryLog {
  constructor(sentPacketHistory) {
    this.maxCapacity = sentPacketHistory * 8;
    this.capacity = Math.min(64, this.maxCapacity);
    this.perPacketLimit = Math.min(1024, this.maxCapacity);
    this.entries = null;
    this.cursor = 0;
    this.validFrom = 0;
    this.packetCount = 0;
    this.liveStart = 0;
  }

  record(channel, id, fragment) {
    if (this.packetCount >= this.perPacketLimit) return false;
    if (this.entries === null) {
      this.entries = new Array(this.capacity);
    } else if (((this.cursor - this.liveStart) >>> 0) >= this.capacity && this.capacity < this.maxCapacity) {
      this.grow();
    }
    this.entries[this.cursor & (this.capacity - 1)] = { id, fragment: fragment < 0 ? WHOLE_MESSAGE : fragment, channel };
    this.cursor = (this.cursor + 1) >>> 0;
    if (((this.cursor - this.validFrom) >>> 0) > this.capacity) this.validFrom = (this.cursor - this.capacity) >>> 0;
    this.packetCount += 1;
    return true;
  }

  grow() {
    const grown = Math.min(this.maxCapacity, this.capacity * 2);
    const fresh = new Array(grown);
    const held = Math.min(this.capacity, (this.cursor - this.liveStart) >>> 0, (this.cursor - this.validFrom) >>> 0);
    let index = (this.cursor - held) >>> 0;
    while (index !== this.cursor) {
      fresh[index & (grown - 1)] = this.entries[index & (this.capacity - 1)];
      index = (index + 1) >>> 0;
    }
    this.entries = fresh;
    this.capacity = grown;
    this.validFrom = (this.cursor - held) >>> 0;
  }

  entry(start, offset) {
    if (this.entries === null) return undefined;
    if (((this.cursor - start) >>> 0) > Math.min(this.capacity, (this.cursor - this.validFrom) >>> 0)) return undefined;
    return this.entries[(start + offset) & (this.capacity - 1)];
  }
}

/** The running estimators behind `statistics` (NetProtocol's StatisticsEstimator). */
class StatisticsEstimator {
  constructor() {
    this.statistics = {
      rtt: 0, rttMin: 0, rttMax: 0, jitter: 0, packetLoss: 0,
      sentBandwidth: 0, receivedBandwidth: 0, ackedBandwidth: 0,
      packetsSent: 0, packetsReceived: 0, packetsAcked: 0, rttSamples: 0,
      messagesSent: 0, messagesReceived: 0, resends: 0, stalePackets: 0, duplicatePackets: 0,
      backPressuredPackets: 0, overBudgetPackets: 0, unreliableDropped: 0, unreliableStale: 0,
      bandwidthLimitedTicks: 0, budgetLimitedTicks: 0,
    };
    this.samples = [];
    this.sampleCount = 0;
    this.sentBytes = 0;
    this.receivedBytes = 0;
    this.ackedBytes = 0;
    this.windowStart = null;
  }

  recordRTT(rawSample) {
    const sample = Math.max(0, rawSample);
    const s = this.statistics;
    if (s.rttSamples === 0) {
      s.rtt = sample;
      s.jitter = sample / 2;
    } else {
      s.jitter += (Math.abs(sample - s.rtt) - s.jitter) * 0.25;
      s.rtt += (sample - s.rtt) * 0.125;
    }
    s.rttSamples += 1;
    this.samples[this.sampleCount % RTT_SAMPLE_WINDOW] = Math.fround(sample);
    this.sampleCount += 1;
  }

  get current() {
    const window = this.samples.slice(0, Math.min(this.sampleCount, RTT_SAMPLE_WINDOW));
    return {
      ...this.statistics,
      rttMin: window.length ? Math.min(...window) : 0,
      rttMax: window.length ? Math.max(...window) : 0,
    };
  }

  recordLossSample(lost) { this.statistics.packetLoss += ((lost ? 1 : 0) - this.statistics.packetLoss) * 0.02; }
  recordSent(bytes) { this.sentBytes += bytes + IP_UDP_OVERHEAD; }
  recordReceived(bytes) { this.receivedBytes += bytes + IP_UDP_OVERHEAD; }
  recordAcked(bytes) { this.ackedBytes += bytes + IP_UDP_OVERHEAD; }

  refreshBandwidth(now) {
    if (this.windowStart === null) {
      this.windowStart = now;
      return;
    }
    const elapsed = now - this.windowStart;
    if (elapsed < 0.1) return;
    const s = this.statistics;
    s.sentBandwidth += (this.sentBytes / elapsed - s.sentBandwidth) * 0.25;
    s.receivedBandwidth += (this.receivedBytes / elapsed - s.receivedBandwidth) * 0.25;
    s.ackedBandwidth += (this.ackedBytes / elapsed - s.ackedBandwidth) * 0.25;
    this.sentBytes = 0;
    this.receivedBytes = 0;
    this.ackedBytes = 0;
    this.windowStart = now;
  }
}

/** Send and receive state of one reliable channel (ordered or unordered). */
class ReliableChannel {
  constructor(index, configuration, fragmentBytes) {
    this.index = index;
    this.ordered = configuration.kind === ChannelKind.reliableOrdered;
    this.fragmentBytes = fragmentBytes;
    this.sendQueueSize = configuration.sendQueueSize;
    this.receiveQueueSize = configuration.receiveQueueSize;
    this.maxMessageBytes = configuration.maxMessageBytes;
    this.maxFragments = Math.ceil(configuration.maxMessageBytes / fragmentBytes);
    this.nextSendID = 0;
    this.oldestUnacked = 0;
    this.outgoing = new Map();
    this.inFlight = new Queue();
    this.unsentID = 0;
    this.unsentPart = 0;
    this.expected = 0;
    this.incoming = new Map();
    this.ready = new Queue();
    this.sendHeldBytes = 0;
    this.receiveHeldBytes = 0;
    this.reassemblingBytes = 0;
  }

  get queuedCount() { return distance(this.nextSendID, this.oldestUnacked); }

  fragmentsNeeded(byteCount) { return byteCount > this.fragmentBytes ? Math.ceil(byteCount / this.fragmentBytes) : 0; }

  sendCost(byteCount) { return byteCount + PART_OVERHEAD_BYTES * Math.max(1, this.fragmentsNeeded(byteCount)); }

  canSend(byteCount, budget) {
    return byteCount <= this.maxMessageBytes && this.queuedCount < this.sendQueueSize && this.sendCost(byteCount) <= budget;
  }

  send(bytes, budget) {
    if (bytes.length > this.maxMessageBytes) throw new ChannelSendError('message_too_large');
    if (this.queuedCount >= this.sendQueueSize) throw new ChannelSendError('queue_full');
    const cost = this.sendCost(bytes.length);
    if (cost > budget) throw new ChannelSendError('over_budget');
    const fragments = this.fragmentsNeeded(bytes.length);
    const id = this.nextSendID;
    this.outgoing.set(id, {
      bytes: Uint8Array.from(bytes),
      fragmentCount: fragments,
      fragments: Array.from({ length: fragments }, () => ({ lastSent: -Infinity, acked: false })),
      lastSent: -Infinity,
      acked: false,
      ackedBytes: 0,
      ackedCount: 0,
    });
    this.nextSendID = (this.nextSendID + 1) & 0xffff;
    this.sendHeldBytes += cost;
    return id;
  }

  static isAcked(message, part) { return message.fragmentCount === 0 ? message.acked : message.fragments[part].acked; }
  static sentAt(message, part) { return message.fragmentCount === 0 ? message.lastSent : message.fragments[part].lastSent; }
  static isComplete(message) { return message.ackedCount === Math.max(1, message.fragmentCount); }

  /** Resends that are due (oldest first), then parts never sent, while they fit. */
  write(writer, limit, now, resendDelay, statistics, log) {
    let resendChecks = this.inFlight.count;
    while (resendChecks > 0 && this.inFlight.count > 0) {
      const head = this.inFlight.first;
      resendChecks -= 1;
      const part = head.part;
      const message = this.outgoing.get(head.id);
      if (!message || part >= Math.max(1, message.fragmentCount) || ReliableChannel.isAcked(message, part)
        || ReliableChannel.sentAt(message, part) !== head.sentAt) {
        this.inFlight.popFirst();
        continue;
      }
      if (now - head.sentAt < resendDelay) break;
      if (!this.writePart(message, head.id, part, writer, limit, now, log)) return true;
      statistics.resends += 1;
      this.inFlight.popFirst();
    }
    while (this.unsentID !== this.nextSendID) {
      const message = this.outgoing.get(this.unsentID);
      if (!message) return true;
      if (!this.writePart(message, this.unsentID, this.unsentPart, writer, limit, now, log)) return true;
      if (this.unsentPart === 0) statistics.messagesSent += 1;
      this.unsentPart += 1;
      if (this.unsentPart >= Math.max(1, message.fragmentCount)) {
        this.unsentID = (this.unsentID + 1) & 0xffff;
        this.unsentPart = 0;
      }
    }
    return false;
  }

  writePart(message, id, part, writer, limit, now, log) {
    const isFragment = message.fragmentCount > 0;
    const total = message.bytes.length;
    const start = isFragment ? part * this.fragmentBytes : 0;
    const end = isFragment ? Math.min(total, start + this.fragmentBytes) : total;
    const needed = entryHeaderBytes(true, isFragment, end - start) + (end - start);
    if (limit - writer.offset < needed) return false;
    if (!log.record(this.index, id, isFragment ? part : -1)) return false;
    writeEntry(this.index, id, isFragment ? { index: part, count: message.fragmentCount } : null,
      message.bytes.subarray(start, end), writer);
    if (isFragment) message.fragments[part].lastSent = now;
    else message.lastSent = now;
    this.inFlight.push({ sentAt: now, id, part });
    return true;
  }

  acknowledge(id, fragment) {
    const message = this.outgoing.get(id);
    if (message) {
      const part = Math.max(0, fragment);
      let newlyAcked = false;
      if (message.fragmentCount === 0) {
        if (part === 0 && !message.acked) {
          message.acked = true;
          newlyAcked = true;
        }
      } else if (part < message.fragmentCount && !message.fragments[part].acked) {
        message.fragments[part].acked = true;
        newlyAcked = true;
      }
      if (newlyAcked) {
        message.ackedCount += 1;
        const total = message.bytes.length;
        if (message.fragmentCount === 0) {
          message.ackedBytes = total;
        } else {
          const start = part * this.fragmentBytes;
          message.ackedBytes += Math.min(total, start + this.fragmentBytes) - start;
        }
      }
    }
    while (this.oldestUnacked !== this.nextSendID && this.oldestUnacked !== this.unsentID) {
      const oldest = this.outgoing.get(this.oldestUnacked);
      if (!oldest) {
        this.oldestUnacked = (this.oldestUnacked + 1) & 0xffff;
        continue;
      }
      if (!ReliableChannel.isComplete(oldest)) break;
      this.sendHeldBytes -= this.sendCost(oldest.bytes.length);
      this.outgoing.delete(this.oldestUnacked);
      this.oldestUnacked = (this.oldestUnacked + 1) & 0xffff;
    }
  }

  progress(id) {
    const message = this.outgoing.get(id);
    if (message) return { ackedBytes: message.ackedBytes, totalBytes: message.bytes.length };
    if (isNewer(this.oldestUnacked, id) && isNewer(this.nextSendID, id)) return { ackedBytes: 1, totalBytes: 1 };
    return null;
  }

  isHead(id) { return id === this.expected; }

  /** Checks an entry without applying it: accept (with its cost), ignore, backPressure, overBudget or fault. */
  admit(entry, budget, reassemblyBudget) {
    const d = distance(entry.id, this.expected);
    if (d >= 0x8000) return { verdict: 'ignore' };
    if (d >= this.receiveQueueSize) {
      return d < this.receiveQueueSize + this.sendQueueSize
        ? { verdict: 'backPressure' } : { verdict: 'fault', fault: Fault.outsideWindow(this.index, entry.id) };
    }
    if (!this.ordered && this.ready.count >= this.receiveQueueSize) return { verdict: 'backPressure' };
    const existing = this.incoming.get(entry.id);
    const { fragment } = entry;
    if (!fragment) {
      if (entry.payload.length > this.fragmentBytes) {
        return { verdict: 'fault', fault: Fault.oversizedMessage(this.index, entry.payload.length) };
      }
      if (existing) {
        if (existing.fragmentCount > 0) return { verdict: 'fault', fault: Fault.inconsistentFragments(this.index, entry.id) };
        return { verdict: 'ignore' };
      }
      const cost = entry.payload.length + PART_OVERHEAD_BYTES;
      return cost <= budget ? { verdict: 'accept', cost } : { verdict: 'overBudget' };
    }
    if (fragment.count < 2 || fragment.count > this.maxFragments || fragment.index >= fragment.count) {
      return { verdict: 'fault', fault: Fault.invalidFragment(this.index) };
    }
    const isLast = fragment.index === fragment.count - 1;
    const sizeOK = isLast ? entry.payload.length >= 1 && entry.payload.length <= this.fragmentBytes
      : entry.payload.length === this.fragmentBytes;
    if (!sizeOK) return { verdict: 'fault', fault: Fault.invalidFragment(this.index) };
    const total = (fragment.count - 1) * this.fragmentBytes + (isLast ? entry.payload.length : 1);
    if (total > this.maxMessageBytes) return { verdict: 'fault', fault: Fault.oversizedMessage(this.index, total) };
    if (existing) {
      if (existing.isComplete || existing.delivered) return { verdict: 'ignore' };
      if (existing.fragmentCount !== fragment.count) {
        return { verdict: 'fault', fault: Fault.inconsistentFragments(this.index, entry.id) };
      }
      return { verdict: 'accept', cost: 0 };
    }
    const cost = reassemblyCharge(fragment.count, this.fragmentBytes);
    if (cost > reassemblyBudget) return { verdict: 'backPressure' };
    return cost <= budget ? { verdict: 'accept', cost } : { verdict: 'overBudget' };
  }

  apply(entry, statistics) {
    let message = this.incoming.get(entry.id);
    if (!message) {
      message = {
        bytes: null, received: null, charge: 0, length: 0, fragmentCount: 0, receivedCount: 0, isComplete: false,
        delivered: false,
      };
      this.incoming.set(entry.id, message);
      let charge;
      if (entry.fragment) {
        message.fragmentCount = entry.fragment.count;
        message.received = new Array(entry.fragment.count).fill(false);
        message.bytes = new Uint8Array(entry.fragment.count * this.fragmentBytes);
        charge = reassemblyCharge(entry.fragment.count, this.fragmentBytes);
        this.reassemblingBytes += charge;
      } else {
        charge = entry.payload.length + PART_OVERHEAD_BYTES;
      }
      message.charge = charge;
      this.receiveHeldBytes += charge;
    }
    if (message.isComplete || message.delivered) return;
    if (entry.fragment) {
      const { index, count } = entry.fragment;
      if (message.received[index]) return;
      message.received[index] = true;
      message.receivedCount += 1;
      const start = index * this.fragmentBytes;
      message.bytes.set(entry.payload, start);
      if (index === count - 1) message.length = start + entry.payload.length;
      if (message.receivedCount !== message.fragmentCount) return;
      message.bytes = message.bytes.slice(0, message.length);
      message.received = null;
      this.reassemblingBytes -= message.charge;
    } else {
      message.bytes = Uint8Array.from(entry.payload);
      message.length = entry.payload.length;
    }
    message.isComplete = true;
    statistics.messagesReceived += 1;
    if (!this.ordered) {
      this.ready.push({ bytes: message.bytes, charge: message.charge });
      message.bytes = null;
      message.charge = 0;
      message.delivered = true;
      for (;;) {
        const head = this.incoming.get(this.expected);
        if (!head || !head.delivered) break;
        this.incoming.delete(this.expected);
        this.expected = (this.expected + 1) & 0xffff;
      }
    }
  }

  receive() {
    if (!this.ordered) {
      const next = this.ready.popFirst();
      if (!next) return null;
      this.receiveHeldBytes -= next.charge;
      return next.bytes;
    }
    const message = this.incoming.get(this.expected);
    if (!message || !message.isComplete) return null;
    this.receiveHeldBytes -= message.charge;
    this.incoming.delete(this.expected);
    this.expected = (this.expected + 1) & 0xffff;
    return message.bytes;
  }
}

/** Send and receive state of one unreliable channel (unordered or sequenced). */
class UnreliableChannel {
  constructor(index, configuration) {
    this.index = index;
    this.sequenced = configuration.kind === ChannelKind.unreliableSequenced;
    this.sendQueueSize = configuration.sendQueueSize;
    this.receiveQueueSize = configuration.receiveQueueSize;
    this.maxMessageBytes = configuration.maxMessageBytes;
    this.queue = new Queue();
    this.ready = new Queue();
    this.nextSequence = 0;
    this.newestDelivered = 0;
    this.hasDelivered = false;
    this.sendHeldBytes = 0;
    this.receiveHeldBytes = 0;
  }

  send(bytes, maxBytes, budget) {
    const limit = Math.min(maxBytes, this.maxMessageBytes);
    if (bytes.length > limit) throw new ChannelSendError('message_too_large');
    if (this.queue.count >= this.sendQueueSize) throw new ChannelSendError('queue_full');
    if (bytes.length + UNRELIABLE_OVERHEAD_BYTES > budget) throw new ChannelSendError('over_budget');
    this.sendHeldBytes += bytes.length + UNRELIABLE_OVERHEAD_BYTES;
    this.queue.push({ bytes: Uint8Array.from(bytes), sequence: this.nextSequence });
    this.nextSequence = (this.nextSequence + 1) & 0xffff;
  }

  get hasQueued() { return this.queue.count > 0; }

  write(writer, limit, statistics) {
    while (this.queue.count > 0) {
      const message = this.queue.first;
      const count = message.bytes.length;
      const needed = entryHeaderBytes(this.sequenced, false, count) + count;
      if (limit - writer.offset < needed) return true;
      writeEntry(this.index, this.sequenced ? message.sequence : null, null, message.bytes, writer);
      statistics.messagesSent += 1;
      this.sendHeldBytes -= count + UNRELIABLE_OVERHEAD_BYTES;
      this.queue.popFirst();
    }
    return false;
  }

  dropUnsent(statistics) {
    if (this.queue.count === 0) return;
    statistics.unreliableDropped += this.queue.count;
    this.queue.removeAll();
    this.sendHeldBytes = 0;
  }

  admit(entry, maxBytes) {
    if (entry.fragment) return Fault.invalidFragment(this.index);
    const limit = Math.min(maxBytes, this.maxMessageBytes);
    if (entry.payload.length > limit) return Fault.oversizedMessage(this.index, entry.payload.length);
    return null;
  }

  apply(entry, budget, statistics) {
    if (this.sequenced) {
      if (this.hasDelivered && !isNewer(entry.id, this.newestDelivered)) {
        statistics.unreliableStale += 1;
        return;
      }
      this.newestDelivered = entry.id;
      this.hasDelivered = true;
    }
    if (this.ready.count >= this.receiveQueueSize) {
      const dropped = this.ready.popFirst();
      this.receiveHeldBytes -= dropped.length + UNRELIABLE_OVERHEAD_BYTES;
      statistics.unreliableDropped += 1;
    }
    const cost = entry.payload.length + UNRELIABLE_OVERHEAD_BYTES;
    if (cost > budget) {
      statistics.unreliableDropped += 1;
      return;
    }
    this.receiveHeldBytes += cost;
    this.ready.push(Uint8Array.from(entry.payload));
    statistics.messagesReceived += 1;
  }

  receive() {
    const message = this.ready.popFirst();
    if (!message) return null;
    this.receiveHeldBytes -= message.length + UNRELIABLE_OVERHEAD_BYTES;
    return message;
  }
}

export class ChannelConnection {
  constructor(configuration = connectionConfiguration()) {
    validate(configuration);
    this.configuration = configuration;
    this.fault = null;
    this.sequence = 0;
    this.sentPackets = new SequenceRing(configuration.sentPacketHistory);
    this.log = new SentEntryLog(configuration.sentPacketHistory);
    this.lossCursor = 0;
    this.receivedPackets = new SequenceRing(configuration.receivedPacketHistory);
    this.newestReceived = 0;
    this.hasReceived = false;
    this.ackPending = false;
    this.channels = configuration.channels.map((channel, index) => (isReliableKind(channel.kind)
      ? new ReliableChannel(index, channel, configuration.fragmentBytes) : new UnreliableChannel(index, channel)));
    this.reliableChannels = this.channels.filter((channel) => channel instanceof ReliableChannel);
    this.hasID = (channel) => configuration.channels[channel].kind !== ChannelKind.unreliableUnordered;
    this.estimator = new StatisticsEstimator();
    this.tokens = configuration.bandwidthBytesPerSecond ?? 0;
    this.lastRefill = null;
    this.pressedSince = configuration.channels.map(() => NaN);
    this.maxUnreliableMessageBytes = configuration.maxPacketBytes - MAX_HEADER_BYTES - MAX_ENTRY_HEADER_BYTES;
    // The largest reliable message's reassembly charge is kept free for head-of-line messages,
    // so that a full window can always drain; sends take at most half of the rest.
    this.headroomBytes = configuration.channels.reduce((largest, channel) => {
      if (!isReliableKind(channel.kind)) return largest;
      const fragments = Math.ceil(channel.maxMessageBytes / configuration.fragmentBytes);
      return Math.max(largest, reassemblyCharge(Math.max(1, fragments), configuration.fragmentBytes));
    }, 0);
    this.sendShareBytes = Math.max(0, Math.floor((configuration.memoryBudgetBytes - this.headroomBytes) / 2));
  }

  /** The latest measurements: rtt, jitter, packetLoss (seconds, fraction) and counters. */
  get statistics() { return this.estimator.current; }

  /** The delay before an unacknowledged message goes again. */
  get resendDelay() {
    const s = this.estimator.statistics;
    if (s.rttSamples === 0) return this.configuration.initialResendDelay;
    return Math.min(this.configuration.maximumResendDelay, Math.max(this.configuration.minimumResendDelay, s.rtt + 4 * s.jitter));
  }

  /**
   * What the connection holds for its peer: send queues until acknowledged, received messages
   * until taken, unfinished reassemblies (the same charges as the Swift connection; the memory of
   * its fixed windows is not counted here).
   */
  get heldBytes() {
    return this.channels.reduce((total, channel) => total + channel.sendHeldBytes + channel.receiveHeldBytes, 0);
  }

  get sendHeldBytes() { return this.channels.reduce((total, channel) => total + channel.sendHeldBytes, 0); }
  get remainingBudget() { return this.configuration.memoryBudgetBytes - this.heldBytes; }
  get remainingSendBudget() { return Math.min(this.remainingBudget, this.sendShareBytes - this.sendHeldBytes); }

  // Application side.

  /** Queues a message; reliable channels return its id (for progress(channel, id)). */
  send(bytes, channel) {
    if (this.fault) throw new ChannelSendError('connection_faulted');
    const state = this.channels[channel];
    if (!state) throw new ChannelSendError('invalid_channel');
    if (state instanceof ReliableChannel) return state.send(bytes, this.remainingSendBudget);
    state.send(bytes, this.maxUnreliableMessageBytes, this.remainingSendBudget);
    return null;
  }

  canSend(byteCount, channel) {
    const state = this.channels[channel];
    if (this.fault || !state) return false;
    if (state instanceof ReliableChannel) return state.canSend(byteCount, this.remainingSendBudget);
    return byteCount <= Math.min(this.maxUnreliableMessageBytes, state.maxMessageBytes)
      && byteCount + UNRELIABLE_OVERHEAD_BYTES <= this.remainingSendBudget;
  }

  /** The next message received on `channel` (a Uint8Array), or null. */
  receive(channel) {
    const state = this.channels[channel];
    if (!state) return null;
    const message = state.receive();
    if (message && state instanceof ReliableChannel) this.pressedSince[channel] = NaN;
    return message;
  }

  progress(channel, id) {
    const state = this.channels[channel];
    return state instanceof ReliableChannel ? state.progress(id) : null;
  }

  unacknowledgedCount(channel) {
    const state = this.channels[channel];
    return state instanceof ReliableChannel ? state.queuedCount : 0;
  }

  // Link side.

  /** Validates every entry and checks that all can be stored, changing nothing. */
  admitEntries(packet, start) {
    const reader = new ByteReader(packet, start);
    let backPressure = false;
    let overBudget = false;
    const budget = this.remainingBudget;
    let reassemblyBudget = this.configuration.maxReassemblyBytes;
    for (const channel of this.reliableChannels) reassemblyBudget -= channel.reassemblingBytes;
    let cost = 0;
    const refused = new Set();
    while (reader.remaining > 0) {
      const entry = readEntry(reader, this.channels.length, this.hasID);
      if (!entry) return { fault: Fault.malformedPacket() };
      const channel = this.channels[entry.channel];
      if (channel instanceof ReliableChannel) {
        const allowance = budget - cost - (channel.isHead(entry.id) ? 0 : this.headroomBytes);
        const admission = channel.admit(entry, allowance, reassemblyBudget);
        switch (admission.verdict) {
          case 'accept':
            cost += admission.cost;
            if (entry.fragment) reassemblyBudget -= admission.cost;
            break;
          case 'ignore': break;
          case 'backPressure':
            backPressure = true;
            refused.add(entry.channel);
            break;
          case 'overBudget':
            overBudget = true;
            refused.add(entry.channel);
            break;
          default: return { fault: admission.fault };
        }
      } else {
        const fault = channel.admit(entry, this.maxUnreliableMessageBytes);
        if (fault) return { fault };
      }
    }
    return { fault: null, backPressure, overBudget, refused };
  }

  /** Processes one packet (a Uint8Array) from the peer. Malformed or hostile content sets `fault`. */
  handlePacket(packet, now) {
    if (this.fault) return;
    const stats = this.estimator.statistics;
    const reader = new ByteReader(packet);
    const header = readHeader(reader);
    if (!header) return this.fail(Fault.malformedPacket());
    if (this.hasReceived) {
      if (distance(this.newestReceived, header.sequence) >= this.configuration.receivedPacketHistory
        && isNewer(this.newestReceived, header.sequence)) {
        stats.stalePackets += 1;
        return;
      }
      if (this.receivedPackets.has(header.sequence)) {
        stats.duplicatePackets += 1;
        return;
      }
    }
    this.checkPressure(now);
    if (this.fault) return;
    const entriesStart = reader.offset;
    const verdict = this.admitEntries(packet, entriesStart);
    if (verdict.fault) return this.fail(verdict.fault);
    if (header.ack) this.processAcks(header.ack, now);
    if (verdict.backPressure || verdict.overBudget) {
      stats.backPressuredPackets += 1;
      if (verdict.overBudget) stats.overBudgetPackets += 1;
      for (const index of verdict.refused) if (Number.isNaN(this.pressedSince[index])) this.pressedSince[index] = now;
      // Unacknowledged, so the sender resends all of it; but what delivery waits for is taken now.
      const again = new ByteReader(packet, entriesStart);
      while (again.remaining > 0) {
        const entry = readEntry(again, this.channels.length, this.hasID);
        if (!entry) break;
        const channel = this.channels[entry.channel];
        if (!(channel instanceof ReliableChannel) || !channel.isHead(entry.id)) continue;
        if (channel.admit(entry, this.remainingBudget, Infinity).verdict === 'accept') channel.apply(entry, stats);
      }
      this.checkPressure(now);
      return;
    }
    const again = new ByteReader(packet, entriesStart);
    while (again.remaining > 0) {
      const entry = readEntry(again, this.channels.length, this.hasID);
      if (!entry) break;
      const channel = this.channels[entry.channel];
      if (channel instanceof ReliableChannel) {
        if (channel.admit(entry, Infinity, Infinity).verdict === 'accept') channel.apply(entry, stats);
      } else {
        channel.apply(entry, this.remainingBudget, stats);
      }
    }
    this.receivedPackets.insert(header.sequence, true);
    if (!this.hasReceived || isNewer(header.sequence, this.newestReceived)) {
      // Forget what the window skipped over, so a sequence from a lap ago never looks received.
      if (this.hasReceived) {
        let cleared = (this.newestReceived + 1) & 0xffff;
        let steps = 0;
        while (cleared !== header.sequence && steps < this.configuration.receivedPacketHistory) {
          this.receivedPackets.remove(cleared);
          cleared = (cleared + 1) & 0xffff;
          steps += 1;
        }
      }
      this.newestReceived = header.sequence;
      this.hasReceived = true;
    }
    this.ackPending = true;
    stats.packetsReceived += 1;
    this.estimator.recordReceived(packet.length);
  }

  processAcks(ack, now) {
    // Only the newest acked packet gives an RTT sample (older ones' acks may have waited).
    this.acknowledge(ack.newest, now, true);
    let bits = ack.bits >>> 0;
    let offset = 1;
    while (bits !== 0) {
      if (bits & 1) this.acknowledge((ack.newest - offset) & 0xffff, now, false);
      bits >>>= 1;
      offset += 1;
    }
  }

  acknowledge(packetSequence, now, sampleRTT) {
    if (!isNewer(this.sequence, packetSequence)) return;
    const packet = this.sentPackets.get(packetSequence);
    if (!packet || packet.acked) return;
    packet.acked = true;
    const stats = this.estimator.statistics;
    stats.packetsAcked += 1;
    if (sampleRTT) this.estimator.recordRTT(now - packet.time);
    this.estimator.recordAcked(packet.bytes);
    for (let offset = 0; offset < packet.entryCount; offset++) {
      const entry = this.log.entry(packet.entryStart, offset);
      if (!entry) return;
      const channel = this.channels[entry.channel];
      if (channel instanceof ReliableChannel) channel.acknowledge(entry.id, entry.fragment === WHOLE_MESSAGE ? -1 : entry.fragment);
    }
  }

  checkPressure(now) {
    for (let index = 0; index < this.channels.length; index++) {
      const since = this.pressedSince[index];
      if (Number.isNaN(since)) continue;
      const channel = this.channels[index];
      if (channel instanceof ReliableChannel && channel.receiveHeldBytes === 0) {
        this.pressedSince[index] = NaN;
      } else if (now - since > this.configuration.overBudgetGraceSeconds) {
        this.fail(Fault.overBudget());
        return;
      }
    }
  }

  fail(fault) {
    if (!this.fault) this.fault = fault;
  }

  /**
   * This tick's packets (Uint8Arrays): as many as the per-tick budget and the bandwidth limit
   * allow, channels filled in index order; an ack-only packet when only acks are owed.
   */
  generatePackets(now) {
    const packets = [];
    this.checkPressure(now);
    if (this.fault) return packets;
    this.refillTokens(now);
    this.updateLoss(now);
    this.estimator.refreshBandwidth(now);
    const tick = { budget: this.configuration.budgetBytesPerTick, resendDelay: this.resendDelay, dataLeft: false, carriedData: false };
    for (let count = 0; count < 64; count++) {
      const packet = this.nextPacket(tick, now);
      if (!packet) break;
      packets.push(packet);
      if (!tick.carriedData || !tick.dataLeft) break;
    }
    const stats = this.estimator.statistics;
    if (tick.dataLeft) {
      const limited = this.configuration.bandwidthBytesPerSecond !== null && this.tokens < this.configuration.maxPacketBytes && tick.budget > 0;
      if (limited) stats.bandwidthLimitedTicks += 1;
      else stats.budgetLimitedTicks += 1;
    }
    for (const channel of this.channels) if (channel instanceof UnreliableChannel) channel.dropUnsent(stats);
    return packets;
  }

  nextPacket(tick, now) {
    let limit = Math.min(this.configuration.maxPacketBytes, tick.budget);
    const limited = this.configuration.bandwidthBytesPerSecond !== null;
    if (limited) limit = Math.min(limit, Math.max(0, Math.trunc(this.tokens)));
    const packet = this.buildPacket(tick, Math.max(limit, MAX_HEADER_BYTES), now, limit > MAX_HEADER_BYTES);
    if (!packet) return null;
    tick.budget -= packet.length;
    if (limited) this.tokens -= packet.length;
    return packet;
  }

  buildPacket(tick, limit, now, allowData) {
    const writer = new ByteWriter(limit);
    writeHeader({ sequence: this.sequence, ack: this.hasReceived ? this.currentAck() : null }, writer);
    const headerEnd = writer.offset;
    const log = this.log;
    const entryStart = log.cursor;
    log.packetCount = 0;
    if (this.lossCursor === this.sequence) {
      log.liveStart = entryStart;
    } else {
      const oldest = this.sentPackets.get(this.lossCursor);
      log.liveStart = oldest ? oldest.entryStart : (entryStart - log.maxCapacity) >>> 0;
    }
    const stats = this.estimator.statistics;
    let dataLeft = false;
    for (const channel of this.channels) {
      let left;
      if (!allowData) {
        left = channel instanceof ReliableChannel ? channel.queuedCount > 0 : channel.hasQueued;
      } else if (channel instanceof ReliableChannel) {
        left = channel.write(writer, limit, now, tick.resendDelay, stats, log);
      } else {
        left = channel.write(writer, limit, stats);
      }
      dataLeft = dataLeft || left;
    }
    tick.dataLeft = dataLeft;
    const carriedData = writer.offset > headerEnd;
    tick.carriedData = carriedData;
    if (!carriedData && !this.ackPending) return null;
    this.sentPackets.insert(this.sequence, {
      time: now, entryStart, bytes: writer.offset, entryCount: log.packetCount, acked: false,
    });
    this.sequence = (this.sequence + 1) & 0xffff;
    this.ackPending = false;
    stats.packetsSent += 1;
    this.estimator.recordSent(writer.offset);
    return writer.finish();
  }

  currentAck() {
    let bits = 0;
    for (let offset = 0; offset < 32; offset++) {
      if (this.receivedPackets.has((this.newestReceived - offset - 1) & 0xffff)) bits |= 1 << offset;
    }
    return { newest: this.newestReceived, bits: bits >>> 0 };
  }

  refillTokens(now) {
    const rate = this.configuration.bandwidthBytesPerSecond;
    if (rate === null) return;
    const capacity = Math.max(this.configuration.maxPacketBytes, rate / 10);
    if (this.lastRefill !== null) this.tokens = Math.min(capacity, this.tokens + rate * Math.max(0, now - this.lastRefill));
    else this.tokens = capacity;
    this.lastRefill = now;
  }

  /** Counts a packet as lost once it has gone unacknowledged for well over an RTT. */
  updateLoss(now) {
    const s = this.estimator.statistics;
    const patience = Math.max(0.25, 2 * s.rtt + 4 * s.jitter);
    while (this.lossCursor !== this.sequence) {
      const packet = this.sentPackets.get(this.lossCursor);
      if (!packet) {
        this.lossCursor = (this.lossCursor + 1) & 0xffff;
        continue;
      }
      if (!packet.acked && !(now - packet.time > patience)) break;
      this.estimator.recordLossSample(!packet.acked);
      this.lossCursor = (this.lossCursor + 1) & 0xffff;
    }
  }
}

/** Throws a RangeError naming the first setting out of range (ConnectionConfiguration.validate). */
function validate(configuration) {
  const c = configuration;
  const fail = (what) => { throw new RangeError(`invalid connection configuration: ${what}`); };
  if (c.channels.length < 1 || c.channels.length > 64) fail('channel count');
  if (c.maxPacketBytes < 64 || c.maxPacketBytes > 1200) fail('maxPacketBytes');
  if (c.fragmentBytes < 16 || c.fragmentBytes > c.maxPacketBytes - MAX_HEADER_BYTES - MAX_ENTRY_HEADER_BYTES) fail('fragmentBytes');
  if (c.budgetBytesPerTick < c.maxPacketBytes) fail('budgetBytesPerTick');
  if (c.bandwidthBytesPerSecond !== null && c.bandwidthBytesPerSecond < c.maxPacketBytes) fail('bandwidthBytesPerSecond');
  for (const history of [c.sentPacketHistory, c.receivedPacketHistory]) {
    if (history < 64 || history > 32768 || 65536 % history !== 0) fail('packet history');
  }
  if (!(c.minimumResendDelay > 0 && c.maximumResendDelay >= c.minimumResendDelay && c.initialResendDelay > 0)) fail('resend delays');
  const isPowerOfTwo = (value) => Number.isInteger(value) && value >= 1 && value <= 32768 && (value & (value - 1)) === 0;
  c.channels.forEach((channel, index) => {
    if (!Object.values(ChannelKind).includes(channel.kind)) fail(`channel ${index} kind`);
    if (!isPowerOfTwo(channel.sendQueueSize) || !isPowerOfTwo(channel.receiveQueueSize)) fail(`channel ${index} queue sizes`);
    if (isReliableKind(channel.kind) && channel.receiveQueueSize < channel.sendQueueSize) fail(`channel ${index} queue sizes`);
    if (channel.maxMessageBytes < 1) fail(`channel ${index} maxMessageBytes`);
  });
}
