using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Connet.Quic.Core;

/// <summary>A 16-byte stateless reset token (RFC 9000 §10.3), compared in constant time.</summary>
internal readonly struct StatelessResetToken : IEquatable<StatelessResetToken>
{
    public const int Length = 16;

    private readonly Bytes16 _bytes;

    public StatelessResetToken(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException("A stateless reset token is 16 bytes.", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);

    /// <summary>Derives the token for a connection ID from a static key (RFC 9000 §10.3.2), so a restarted endpoint can still reset.</summary>
    public static StatelessResetToken Derive(ReadOnlySpan<byte> key, ReadOnlySpan<byte> connectionId)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, connectionId, mac);
        return new StatelessResetToken(mac[..Length]);
    }

    public bool Equals(StatelessResetToken other) =>
        CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override bool Equals(object? obj) => obj is StatelessResetToken other && Equals(other);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    public static bool operator ==(StatelessResetToken left, StatelessResetToken right) => left.Equals(right);

    public static bool operator !=(StatelessResetToken left, StatelessResetToken right) => !left.Equals(right);

    [InlineArray(Length)]
    private struct Bytes16
    {
        private byte _element;
    }
}
