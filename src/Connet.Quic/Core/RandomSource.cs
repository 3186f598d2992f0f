using System.Security.Cryptography;

namespace Connet.Quic.Core;

/// <summary>
/// Randomness for protocol decisions that tests want to replay (connection IDs, packet number skips, jitter).
/// Key material never comes from here: TLS secrets always use the system CSPRNG.
/// </summary>
internal abstract class RandomSource
{
    public static RandomSource Secure { get; } = new SecureRandomSource();

    public static RandomSource Seeded(int seed) => new SeededRandomSource(seed);

    public abstract void Fill(Span<byte> destination);

    /// <summary>A uniformly distributed integer in [0, <paramref name="maxExclusive"/>).</summary>
    public abstract int Next(int maxExclusive);

    public ulong NextUInt64()
    {
        Span<byte> bytes = stackalloc byte[8];
        Fill(bytes);
        return BitConverter.ToUInt64(bytes);
    }

    private sealed class SecureRandomSource : RandomSource
    {
        public override void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);

        public override int Next(int maxExclusive) => RandomNumberGenerator.GetInt32(maxExclusive);
    }

    private sealed class SeededRandomSource(int seed) : RandomSource
    {
        private readonly Random _random = new(seed);

        public override void Fill(Span<byte> destination) => _random.NextBytes(destination);

        public override int Next(int maxExclusive) => _random.Next(maxExclusive);
    }
}
