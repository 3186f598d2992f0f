using System.Buffers.Binary;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Packets;

/// <summary>Writes packet headers and protects packets (RFC 9000 §17, §10.3; RFC 9001 §5).</summary>
internal static class PacketWriter
{
    /// <summary>The Length field is always written as a 2-byte varint so it can be patched once the payload is known.</summary>
    public const int LengthFieldSize = 2;

    public const int MaxPatchableLength = 16383;

    /// <summary>The smallest stateless reset: 1 byte, at least 38 unpredictable bits in all, then the 16-byte token (RFC 9000 §10.3).</summary>
    public const int MinStatelessResetLength = 21;

    private const byte LongHeaderForm = 0x80;
    private const byte FixedBit = 0x40;
    private const byte SpinBit = 0x20;
    private const byte KeyPhaseBit = 0x04;

    // A received Version Negotiation packet can list at most this many versions before we stop trusting it.
    private const int MaxNegotiatedVersions = 256;

    /// <summary>
    /// Writes an Initial, 0-RTT or Handshake header with a placeholder Length field, ending with the (unprotected)
    /// packet number. Returns the header length, which is also where the payload starts.
    /// </summary>
    public static int WriteLongHeader(
        Span<byte> destination,
        PacketType type,
        ReadOnlySpan<byte> destinationConnectionId,
        ReadOnlySpan<byte> sourceConnectionId,
        ReadOnlySpan<byte> token,
        ulong packetNumber,
        int packetNumberLength,
        out int lengthOffset,
        out int packetNumberOffset)
    {
        int typeBits = type switch
        {
            PacketType.Initial => 0,
            PacketType.ZeroRtt => 1,
            PacketType.Handshake => 2,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Only Initial, 0-RTT and Handshake carry a packet number."),
        };
        ValidatePacketNumberLength(packetNumberLength);
        ValidateConnectionId(destinationConnectionId, nameof(destinationConnectionId));
        ValidateConnectionId(sourceConnectionId, nameof(sourceConnectionId));
        if (type != PacketType.Initial && !token.IsEmpty)
        {
            throw new ArgumentException("Only Initial packets carry a token.", nameof(token));
        }

        var writer = new SpanWriter(destination);
        writer.WriteByte((byte)(LongHeaderForm | FixedBit | (typeBits << 4) | (packetNumberLength - 1)));
        writer.WriteUInt32(QuicVersion.Version1);
        writer.WriteByte((byte)destinationConnectionId.Length);
        writer.WriteBytes(destinationConnectionId);
        writer.WriteByte((byte)sourceConnectionId.Length);
        writer.WriteBytes(sourceConnectionId);
        if (type == PacketType.Initial)
        {
            writer.WriteVarInt((ulong)token.Length);
            writer.WriteBytes(token);
        }

        lengthOffset = writer.Position;
        writer.WriteVarInt(0, LengthFieldSize);
        packetNumberOffset = writer.Position;
        WriteTruncatedPacketNumber(writer.Reserve(packetNumberLength), packetNumber);
        return writer.Position;
    }

    /// <summary>Fills in the Length field: the bytes after it, i.e. packet number + payload + AEAD tag.</summary>
    public static void PatchLength(Span<byte> packet, int lengthOffset, int length)
    {
        if ((uint)length > MaxPatchableLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The Length field is a 2-byte varint.");
        }

        VarInt.Write(packet[lengthOffset..], (ulong)length, LengthFieldSize);
    }

    /// <summary>Writes a 1-RTT header ending with the (unprotected) packet number; returns where the payload starts.</summary>
    public static int WriteShortHeader(
        Span<byte> destination,
        bool spin,
        bool keyPhase,
        ReadOnlySpan<byte> destinationConnectionId,
        ulong packetNumber,
        int packetNumberLength,
        out int packetNumberOffset)
    {
        ValidatePacketNumberLength(packetNumberLength);
        ValidateConnectionId(destinationConnectionId, nameof(destinationConnectionId));

        var writer = new SpanWriter(destination);
        writer.WriteByte((byte)(FixedBit | (spin ? SpinBit : 0) | (keyPhase ? KeyPhaseBit : 0) | (packetNumberLength - 1)));
        writer.WriteBytes(destinationConnectionId);
        packetNumberOffset = writer.Position;
        WriteTruncatedPacketNumber(writer.Reserve(packetNumberLength), packetNumber);
        return writer.Position;
    }

    /// <summary>
    /// Encrypts the <paramref name="payloadLength"/> bytes after the packet number in place, appends the tag and
    /// applies header protection. A long header's Length must be patched first, since the header is authenticated.
    /// The packet number plus payload must be at least 4 bytes so the header protection sample exists (pad otherwise).
    /// Returns the packet's total length.
    /// </summary>
    public static int Protect(
        Span<byte> packet,
        int packetNumberOffset,
        int packetNumberLength,
        ulong packetNumber,
        int payloadLength,
        IPacketKey packetKey,
        IHeaderKey headerKey)
    {
        ValidatePacketNumberLength(packetNumberLength);
        if (packetNumberLength + payloadLength < PacketNumberCoding.MaxLength)
        {
            throw new ArgumentException("Packet number and payload must span at least 4 bytes for header protection sampling.", nameof(payloadLength));
        }

        int payloadOffset = packetNumberOffset + packetNumberLength;
        int tagLength = packetKey.TagLength;
        packetKey.Seal(
            packetNumber,
            packet[..payloadOffset],
            packet.Slice(payloadOffset, payloadLength),
            packet.Slice(payloadOffset + payloadLength, tagLength));
        int totalLength = payloadOffset + payloadLength + tagLength;
        HeaderProtection.Apply(packet[..totalLength], packetNumberOffset, packetNumberLength, headerKey);
        return totalLength;
    }

    /// <summary>
    /// Writes a Version Negotiation packet. The IDs are those of the response: <paramref name="destinationConnectionId"/>
    /// is the client's Source Connection ID and <paramref name="sourceConnectionId"/> its Destination Connection ID.
    /// </summary>
    public static int WriteVersionNegotiation(
        Span<byte> destination,
        ReadOnlySpan<byte> destinationConnectionId,
        ReadOnlySpan<byte> sourceConnectionId,
        ReadOnlySpan<uint> versions,
        RandomSource random)
    {
        if (destinationConnectionId.Length > byte.MaxValue || sourceConnectionId.Length > byte.MaxValue)
        {
            throw new ArgumentException("A connection ID is at most 255 bytes under the invariants.");
        }

        if (versions.IsEmpty)
        {
            throw new ArgumentException("Version Negotiation must list at least one version.", nameof(versions));
        }

        Span<byte> unused = stackalloc byte[1];
        random.Fill(unused);

        var writer = new SpanWriter(destination);

        // The unused bits are random, but the fixed bit is set so the packet demultiplexes like QUIC (RFC 9000 §17.2.1).
        writer.WriteByte((byte)(LongHeaderForm | FixedBit | (unused[0] & 0x3F)));
        writer.WriteUInt32(QuicVersion.Negotiation);
        writer.WriteByte((byte)destinationConnectionId.Length);
        writer.WriteBytes(destinationConnectionId);
        writer.WriteByte((byte)sourceConnectionId.Length);
        writer.WriteBytes(sourceConnectionId);
        foreach (uint version in versions)
        {
            writer.WriteUInt32(version);
        }

        return writer.Position;
    }

    /// <summary>Reads the Supported Versions of a Version Negotiation packet; false if malformed, empty or too long.</summary>
    public static bool TryParseVersionNegotiation(ReadOnlySpan<byte> packet, out uint[] versions)
    {
        versions = [];
        var reader = new SpanReader(packet);
        if (!reader.TryReadByte(out byte firstByte)
            || (firstByte & LongHeaderForm) == 0
            || !reader.TryReadUInt32(out uint version)
            || version != QuicVersion.Negotiation
            || !reader.TryReadLengthPrefixed(1, out _)
            || !reader.TryReadLengthPrefixed(1, out _))
        {
            return false;
        }

        int count = reader.Remaining / 4;
        if (count == 0 || reader.Remaining % 4 != 0 || count > MaxNegotiatedVersions)
        {
            return false;
        }

        versions = new uint[count];
        for (int i = 0; i < count; i++)
        {
            reader.TryReadUInt32(out versions[i]);
        }

        return true;
    }

    /// <summary>
    /// Writes a Retry packet with its integrity tag (RFC 9000 §17.2.5, RFC 9001 §5.8). The IDs are those of the
    /// response: destination = the client's SCID, source = the new server-chosen ID; the tag covers
    /// <paramref name="originalDestinationConnectionId"/>, the DCID of the client's Initial.
    /// </summary>
    public static int WriteRetry(
        Span<byte> destination,
        ReadOnlySpan<byte> destinationConnectionId,
        ReadOnlySpan<byte> sourceConnectionId,
        ReadOnlySpan<byte> token,
        ReadOnlySpan<byte> originalDestinationConnectionId,
        RandomSource random)
    {
        ValidateConnectionId(destinationConnectionId, nameof(destinationConnectionId));
        ValidateConnectionId(sourceConnectionId, nameof(sourceConnectionId));
        ValidateConnectionId(originalDestinationConnectionId, nameof(originalDestinationConnectionId));
        if (token.IsEmpty)
        {
            throw new ArgumentException("A Retry token cannot be empty (RFC 9000 §17.2.5.2).", nameof(token));
        }

        Span<byte> unused = stackalloc byte[1];
        random.Fill(unused);

        var writer = new SpanWriter(destination);
        writer.WriteByte((byte)(LongHeaderForm | FixedBit | (3 << 4) | (unused[0] & 0x0F)));
        writer.WriteUInt32(QuicVersion.Version1);
        writer.WriteByte((byte)destinationConnectionId.Length);
        writer.WriteBytes(destinationConnectionId);
        writer.WriteByte((byte)sourceConnectionId.Length);
        writer.WriteBytes(sourceConnectionId);
        writer.WriteBytes(token);
        int tagOffset = writer.Position;
        RetryIntegrity.ComputeTag(originalDestinationConnectionId, destination[..tagOffset], writer.Reserve(RetryIntegrity.TagLength));
        return writer.Position;
    }

    /// <summary>
    /// Writes a stateless reset of <paramref name="length"/> bytes: random bytes shaped like a short header, ending
    /// with the token. The caller picks a length below the triggering packet's so resets cannot loop (RFC 9000 §10.3.3).
    /// </summary>
    public static int WriteStatelessReset(Span<byte> destination, int length, StatelessResetToken token, RandomSource random)
    {
        if (length < MinStatelessResetLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A stateless reset is at least 21 bytes.");
        }

        Span<byte> packet = destination[..length];
        random.Fill(packet[..^StatelessResetToken.Length]);
        packet[0] = (byte)((packet[0] & 0x3F) | FixedBit);
        token.CopyTo(packet[^StatelessResetToken.Length..]);
        return length;
    }

    /// <summary>
    /// Picks a stateless reset length for a triggering packet (RFC 9000 §10.3): always shorter than the trigger so
    /// two endpoints cannot loop, one byte shorter for triggers of 43 bytes or less, otherwise random in [42, 64]
    /// (capped below the trigger). False when the trigger is too short to answer with a 21-byte reset.
    /// </summary>
    public static bool TryChooseStatelessResetLength(int triggeringPacketLength, RandomSource random, out int length)
    {
        const int ShortTriggerLimit = 43;
        const int MinRandomLength = 42;
        const int MaxRandomLength = 64;

        if (triggeringPacketLength <= MinStatelessResetLength)
        {
            length = 0;
            return false;
        }

        if (triggeringPacketLength <= ShortTriggerLimit)
        {
            length = triggeringPacketLength - 1;
            return true;
        }

        int upper = Math.Min(triggeringPacketLength - 1, MaxRandomLength);
        length = MinRandomLength + random.Next(upper - MinRandomLength + 1);
        return true;
    }

    /// <summary>The candidate stateless reset token: the last 16 bytes of a datagram of at least 21 bytes.</summary>
    public static bool TryGetStatelessResetToken(ReadOnlySpan<byte> datagram, out StatelessResetToken token)
    {
        if (datagram.Length < MinStatelessResetLength)
        {
            token = default;
            return false;
        }

        token = new StatelessResetToken(datagram[^StatelessResetToken.Length..]);
        return true;
    }

    private static void WriteTruncatedPacketNumber(Span<byte> destination, ulong packetNumber)
    {
        Span<byte> full = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(full, packetNumber);
        full[^destination.Length..].CopyTo(destination);
    }

    private static void ValidatePacketNumberLength(int packetNumberLength)
    {
        if (packetNumberLength is < 1 or > PacketNumberCoding.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(packetNumberLength), packetNumberLength, "A packet number is 1 to 4 bytes.");
        }
    }

    private static void ValidateConnectionId(ReadOnlySpan<byte> connectionId, string parameterName)
    {
        if (connectionId.Length > ConnectionId.MaxLength)
        {
            throw new ArgumentOutOfRangeException(parameterName, connectionId.Length, "A QUIC v1 connection ID is at most 20 bytes.");
        }
    }
}
