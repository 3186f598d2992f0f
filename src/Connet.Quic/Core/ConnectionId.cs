using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Connet.Quic.Core;

/// <summary>A QUIC connection ID (RFC 9000 §5.1): 0 to 20 bytes, held inline so it can key dictionaries without allocating.</summary>
internal readonly struct ConnectionId : IEquatable<ConnectionId>
{
    public const int MaxLength = 20;

    private readonly Bytes20 _bytes;
    private readonly byte _length;

    public ConnectionId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes.Length, "A connection ID is at most 20 bytes.");
        }

        _length = (byte)bytes.Length;
        bytes.CopyTo(_bytes);
    }

    public static ConnectionId Empty => default;

    public int Length => _length;

    /// <summary>The ID's bytes; a view into this value, so take it from a variable, not a temporary.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Span => ((ReadOnlySpan<byte>)_bytes)[.._length];

    public static bool TryCreate(ReadOnlySpan<byte> bytes, out ConnectionId id)
    {
        if (bytes.Length > MaxLength)
        {
            id = default;
            return false;
        }

        id = new ConnectionId(bytes);
        return true;
    }

    public static ConnectionId Random(RandomSource random, int length)
    {
        Span<byte> bytes = stackalloc byte[length];
        random.Fill(bytes);
        return new ConnectionId(bytes);
    }

    public bool Equals(ConnectionId other) => Span.SequenceEqual(other.Span);

    public override bool Equals(object? obj) => obj is ConnectionId other && Equals(other);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    public static bool operator ==(ConnectionId left, ConnectionId right) => left.Equals(right);

    public static bool operator !=(ConnectionId left, ConnectionId right) => !left.Equals(right);

    public byte[] ToArray() => Span.ToArray();

    public override string ToString() => Convert.ToHexStringLower(Span);

    [InlineArray(MaxLength)]
    private struct Bytes20
    {
        private byte _element;
    }
}
