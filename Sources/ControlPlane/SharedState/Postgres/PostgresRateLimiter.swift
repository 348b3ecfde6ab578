import Foundation
import PostgresNIO

/// Token buckets shared by every control port on one PostgreSQL database, with the semantics of
/// ``RateLimiter`` (its ``RateLimiter/Rule``): one row of the unlogged `rate_buckets` table per
/// limiter and key, refilled by the time elapsed on the database's clock (`clock_timestamp()`),
/// so that the instances' own clocks never matter. Each operation is one statement: a take is
/// an upsert that refills, takes if it can and returns the outcome, atomically under the row's
/// lock, so that N instances spend one budget.
///
/// Rows of full buckets say nothing and are deleted by ``sweep()``; past ``maxKeys`` rows for
/// this limiter the oldest go too, so the table stays bounded however many keys a flood brings.
///
/// When the database fails, a take is refused (for a second) rather than let through: a login
/// limit that lapses whenever the database is slow would be no limit.
public struct PostgresRateLimiter: RateLimiting {
    /// Names this limiter's rows; each limiter sharing the table has its own.
    public let name: String
    public let rule: RateLimiter.Rule
    public let maxKeys: Int
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    public init(name: String, rule: RateLimiter.Rule, database: PostgresDatabase, maxKeys: Int = 100_000) {
        self.name = name
        self.rule = rule
        self.database = database
        self.maxKeys = maxKeys
    }

    public func take(_ key: String) async -> Double? {
        let (rate, burst) = (rule.rate, rule.burst)
        let allowedWhenNew = burst >= 1
        do {
            // The refill expression appears three times: SET sees the old row in every
            // expression, so each one refills from the same starting point.
            let rows = try await database.rows(
                """
                INSERT INTO rate_buckets AS b (limiter, key, tokens, updated_at, allowed)
                VALUES (\(name), \(key), \(allowedWhenNew ? burst - 1 : burst), clock_timestamp(), \(allowedWhenNew))
                ON CONFLICT (limiter, key) DO UPDATE SET
                    tokens = least(\(burst), b.tokens + greatest(0, extract(epoch FROM excluded.updated_at - b.updated_at)::double precision) * \(rate))
                        - CASE WHEN least(\(burst), b.tokens + greatest(0, extract(epoch FROM excluded.updated_at - b.updated_at)::double precision) * \(rate)) >= 1
                            THEN 1 ELSE 0 END,
                    allowed = least(\(burst), b.tokens + greatest(0, extract(epoch FROM excluded.updated_at - b.updated_at)::double precision) * \(rate)) >= 1,
                    updated_at = greatest(b.updated_at, excluded.updated_at)
                RETURNING allowed, tokens
                """)
            guard let row = rows.first else { throw PostgresStoreInconsistency(what: "a rate-limit upsert returned no row") }
            let (allowed, tokens) = try row.decode((Bool, Double).self)
            return allowed ? nil : (1 - tokens) / rate
        } catch {
            logger.error("rate limit \(name): could not take a token, refusing: \(PostgresDatabase.reason(error))")
            return 1
        }
    }

    public func retryAfter(_ key: String) async -> Double? {
        do {
            let rows = try await database.rows(
                """
                SELECT least(\(rule.burst), tokens + greatest(0, extract(epoch FROM clock_timestamp() - updated_at)::double precision) * \(rule.rate))
                FROM rate_buckets WHERE limiter = \(name) AND key = \(key)
                """)
            let tokens = try rows.first?.decode(Double.self) ?? rule.burst
            return tokens >= 1 ? nil : (1 - tokens) / rule.rate
        } catch {
            logger.error("rate limit \(name): could not read a bucket, refusing: \(PostgresDatabase.reason(error))")
            return 1
        }
    }

    public func refund(_ key: String) async {
        await run(
            """
            UPDATE rate_buckets SET
                tokens = least(\(rule.burst), tokens + greatest(0, extract(epoch FROM clock_timestamp() - updated_at)::double precision) * \(rule.rate) + 1),
                updated_at = greatest(updated_at, clock_timestamp())
            WHERE limiter = \(name) AND key = \(key)
            """)
    }

    public func reset(_ key: String) async {
        await run("DELETE FROM rate_buckets WHERE limiter = \(name) AND key = \(key)")
    }

    /// Deletes the buckets that have refilled (a missing bucket is a full one), then, if more
    /// than ``maxKeys`` remain, the least recently used. Returns how many rows it deleted.
    @discardableResult
    func sweep() async throws -> Int {
        let full = try await database.rows(
            """
            WITH deleted AS (
                DELETE FROM rate_buckets WHERE limiter = \(name)
                    AND tokens + greatest(0, extract(epoch FROM clock_timestamp() - updated_at)::double precision) * \(rule.rate) >= \(rule.burst)
                RETURNING 1)
            SELECT count(*) FROM deleted
            """)
        let excess = try await database.rows(
            """
            WITH deleted AS (
                DELETE FROM rate_buckets WHERE limiter = \(name) AND key IN (
                    SELECT key FROM rate_buckets WHERE limiter = \(name) ORDER BY updated_at
                    LIMIT greatest(0, (SELECT count(*) FROM rate_buckets WHERE limiter = \(name)) - \(maxKeys)))
                RETURNING 1)
            SELECT count(*) FROM deleted
            """)
        return try (full.first?.decode(Int.self) ?? 0) + (excess.first?.decode(Int.self) ?? 0)
    }

    private func run(_ query: PostgresQuery) async {
        do {
            _ = try await database.rows(query)
        } catch {
            logger.error("rate limit \(name): a write failed: \(PostgresDatabase.reason(error))")
        }
    }
}
