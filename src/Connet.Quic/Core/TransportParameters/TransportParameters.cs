using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Parameters;

/// <summary>
/// The QUIC transport parameters (RFC 9000 §18) carried in the TLS quic_transport_parameters extension. Absent
/// parameters hold their RFC defaults. Checking the connection ID parameters against the handshake (§7.3) is the
/// connection's job; this type only parses, range-checks and encodes.
/// </summary>
internal sealed class TransportParameters
{
    public const ulong DefaultMaxUdpPayloadSize = 65527;
    public const ulong MinMaxUdpPayloadSize = 1200;
    public const ulong DefaultAckDelayExponent = 3;
    public const ulong MaxAckDelayExponent = 20;
    public const ulong DefaultMaxAckDelayMs = 25;
    public const ulong MaxAckDelayMsExclusive = 1UL << 14;
    public const ulong DefaultActiveConnectionIdLimit = 2;
    public const ulong MaxStreamCount = 1UL << 60;

    // Enough for every parameter at its largest plus a GREASE one; Encode writes into this much scratch.
    private const int MaxEncodedLength = 512;
    private const int MaxGreaseValueLength = 16;

    /// <summary>Server only: the Destination Connection ID of the client's first Initial.</summary>
    public ConnectionId? OriginalDestinationConnectionId { get; set; }

    /// <summary>Milliseconds; 0 disables the idle timeout from this side.</summary>
    public ulong MaxIdleTimeoutMs { get; set; }

    /// <summary>Server only.</summary>
    public StatelessResetToken? StatelessResetToken { get; set; }

    public ulong MaxUdpPayloadSize { get; set; } = DefaultMaxUdpPayloadSize;

    public ulong InitialMaxData { get; set; }

    public ulong InitialMaxStreamDataBidiLocal { get; set; }

    public ulong InitialMaxStreamDataBidiRemote { get; set; }

    public ulong InitialMaxStreamDataUni { get; set; }

    public ulong InitialMaxStreamsBidi { get; set; }

    public ulong InitialMaxStreamsUni { get; set; }

    public ulong AckDelayExponent { get; set; } = DefaultAckDelayExponent;

    public ulong MaxAckDelayMs { get; set; } = DefaultMaxAckDelayMs;

    public bool DisableActiveMigration { get; set; }

    /// <summary>Server only.</summary>
    public PreferredAddress? PreferredAddress { get; set; }

    public ulong ActiveConnectionIdLimit { get; set; } = DefaultActiveConnectionIdLimit;

    /// <summary>The Source Connection ID of the sender's first Initial; both sides must send it (may be empty).</summary>
    public ConnectionId? InitialSourceConnectionId { get; set; }

    /// <summary>Server only, and only after a Retry.</summary>
    public ConnectionId? RetrySourceConnectionId { get; set; }

    /// <summary>
    /// Encodes the parameters that differ from their defaults (the connection IDs whenever set, even empty), plus one
    /// reserved GREASE parameter (id 31*N+27, §18.1) with a short random value so peers keep ignoring unknown ids.
    /// </summary>
    public byte[] Encode(RandomSource? random = null)
    {
        random ??= RandomSource.Secure;
        Span<byte> buffer = stackalloc byte[MaxEncodedLength];
        var writer = new SpanWriter(buffer);

        WriteConnectionId(ref writer, TransportParameterId.OriginalDestinationConnectionId, OriginalDestinationConnectionId);
        WriteInteger(ref writer, TransportParameterId.MaxIdleTimeout, MaxIdleTimeoutMs, 0);
        if (StatelessResetToken is { } token)
        {
            WriteHeader(ref writer, TransportParameterId.StatelessResetToken, Core.StatelessResetToken.Length);
            token.CopyTo(writer.Reserve(Core.StatelessResetToken.Length));
        }

        WriteInteger(ref writer, TransportParameterId.MaxUdpPayloadSize, MaxUdpPayloadSize, DefaultMaxUdpPayloadSize);
        WriteInteger(ref writer, TransportParameterId.InitialMaxData, InitialMaxData, 0);
        WriteInteger(ref writer, TransportParameterId.InitialMaxStreamDataBidiLocal, InitialMaxStreamDataBidiLocal, 0);
        WriteInteger(ref writer, TransportParameterId.InitialMaxStreamDataBidiRemote, InitialMaxStreamDataBidiRemote, 0);
        WriteInteger(ref writer, TransportParameterId.InitialMaxStreamDataUni, InitialMaxStreamDataUni, 0);
        WriteInteger(ref writer, TransportParameterId.InitialMaxStreamsBidi, InitialMaxStreamsBidi, 0);
        WriteInteger(ref writer, TransportParameterId.InitialMaxStreamsUni, InitialMaxStreamsUni, 0);
        WriteInteger(ref writer, TransportParameterId.AckDelayExponent, AckDelayExponent, DefaultAckDelayExponent);
        WriteInteger(ref writer, TransportParameterId.MaxAckDelay, MaxAckDelayMs, DefaultMaxAckDelayMs);
        if (DisableActiveMigration)
        {
            WriteHeader(ref writer, TransportParameterId.DisableActiveMigration, 0);
        }

        if (PreferredAddress is { } preferredAddress)
        {
            WriteHeader(ref writer, TransportParameterId.PreferredAddress, preferredAddress.EncodedLength);
            preferredAddress.Encode(ref writer);
        }

        WriteInteger(ref writer, TransportParameterId.ActiveConnectionIdLimit, ActiveConnectionIdLimit, DefaultActiveConnectionIdLimit);
        WriteConnectionId(ref writer, TransportParameterId.InitialSourceConnectionId, InitialSourceConnectionId);
        WriteConnectionId(ref writer, TransportParameterId.RetrySourceConnectionId, RetrySourceConnectionId);
        WriteGrease(ref writer, random);
        return writer.Written.ToArray();
    }

    /// <summary>
    /// Parses a peer's parameters. <paramref name="sentByServer"/> is true when we are the client. Unknown ids are
    /// skipped; duplicates, malformed or out-of-range values and server-only parameters from a client are
    /// TRANSPORT_PARAMETER_ERROR.
    /// </summary>
    public static TransportParameters Decode(ReadOnlySpan<byte> data, bool sentByServer)
    {
        var parameters = new TransportParameters();
        var reader = new SpanReader(data);
        uint seenKnown = 0;
        HashSet<ulong>? seenUnknown = null;
        while (!reader.IsEmpty)
        {
            if (!reader.TryReadVarInt(out ulong id) || !reader.TryReadVarIntLengthPrefixed(out ReadOnlySpan<byte> value))
            {
                throw TransportParameterErrors.Invalid("truncated transport parameter");
            }

            if (id > (ulong)TransportParameterId.RetrySourceConnectionId)
            {
                // A set only for the rare unknown ids; its size is bounded by the input length.
                seenUnknown ??= [];
                if (!seenUnknown.Add(id))
                {
                    throw TransportParameterErrors.Invalid($"duplicate transport parameter 0x{id:x}");
                }

                continue;
            }

            uint bit = 1u << (int)id;
            if ((seenKnown & bit) != 0)
            {
                throw TransportParameterErrors.Invalid($"duplicate transport parameter {(TransportParameterId)id}");
            }

            seenKnown |= bit;
            parameters.Apply((TransportParameterId)id, value, sentByServer);
        }

        return parameters;
    }

    private void Apply(TransportParameterId id, ReadOnlySpan<byte> value, bool sentByServer)
    {
        if (!sentByServer && id is TransportParameterId.OriginalDestinationConnectionId or TransportParameterId.StatelessResetToken
            or TransportParameterId.PreferredAddress or TransportParameterId.RetrySourceConnectionId)
        {
            throw TransportParameterErrors.Invalid($"client sent server-only transport parameter {id}");
        }

        switch (id)
        {
            case TransportParameterId.OriginalDestinationConnectionId:
                OriginalDestinationConnectionId = ReadConnectionId(id, value);
                break;
            case TransportParameterId.MaxIdleTimeout:
                MaxIdleTimeoutMs = ReadInteger(id, value);
                break;
            case TransportParameterId.StatelessResetToken:
                if (value.Length != Core.StatelessResetToken.Length)
                {
                    throw TransportParameterErrors.Invalid("stateless_reset_token is not 16 bytes");
                }

                StatelessResetToken = new StatelessResetToken(value);
                break;
            case TransportParameterId.MaxUdpPayloadSize:
                MaxUdpPayloadSize = ReadInteger(id, value);
                if (MaxUdpPayloadSize < MinMaxUdpPayloadSize)
                {
                    throw TransportParameterErrors.Invalid("max_udp_payload_size below 1200");
                }

                break;
            case TransportParameterId.InitialMaxData:
                InitialMaxData = ReadInteger(id, value);
                break;
            case TransportParameterId.InitialMaxStreamDataBidiLocal:
                InitialMaxStreamDataBidiLocal = ReadInteger(id, value);
                break;
            case TransportParameterId.InitialMaxStreamDataBidiRemote:
                InitialMaxStreamDataBidiRemote = ReadInteger(id, value);
                break;
            case TransportParameterId.InitialMaxStreamDataUni:
                InitialMaxStreamDataUni = ReadInteger(id, value);
                break;
            case TransportParameterId.InitialMaxStreamsBidi:
                InitialMaxStreamsBidi = ReadStreamCount(id, value);
                break;
            case TransportParameterId.InitialMaxStreamsUni:
                InitialMaxStreamsUni = ReadStreamCount(id, value);
                break;
            case TransportParameterId.AckDelayExponent:
                AckDelayExponent = ReadInteger(id, value);
                if (AckDelayExponent > MaxAckDelayExponent)
                {
                    throw TransportParameterErrors.Invalid("ack_delay_exponent above 20");
                }

                break;
            case TransportParameterId.MaxAckDelay:
                MaxAckDelayMs = ReadInteger(id, value);
                if (MaxAckDelayMs >= MaxAckDelayMsExclusive)
                {
                    throw TransportParameterErrors.Invalid("max_ack_delay of 2^14 or more");
                }

                break;
            case TransportParameterId.DisableActiveMigration:
                if (!value.IsEmpty)
                {
                    throw TransportParameterErrors.Invalid("disable_active_migration must be empty");
                }

                DisableActiveMigration = true;
                break;
            case TransportParameterId.PreferredAddress:
                PreferredAddress = PreferredAddress.Decode(value);
                break;
            case TransportParameterId.ActiveConnectionIdLimit:
                ActiveConnectionIdLimit = ReadInteger(id, value);
                if (ActiveConnectionIdLimit < 2)
                {
                    throw TransportParameterErrors.Invalid("active_connection_id_limit below 2");
                }

                break;
            case TransportParameterId.InitialSourceConnectionId:
                InitialSourceConnectionId = ReadConnectionId(id, value);
                break;
            case TransportParameterId.RetrySourceConnectionId:
                RetrySourceConnectionId = ReadConnectionId(id, value);
                break;
        }
    }

    private static ulong ReadInteger(TransportParameterId id, ReadOnlySpan<byte> value)
    {
        // The value must be exactly one varint: trailing or missing bytes mean the peer's encoder is broken.
        if (!VarInt.TryRead(value, out ulong result, out int length) || length != value.Length)
        {
            throw TransportParameterErrors.Invalid($"{id} is not a single varint");
        }

        return result;
    }

    private static ulong ReadStreamCount(TransportParameterId id, ReadOnlySpan<byte> value)
    {
        ulong count = ReadInteger(id, value);
        if (count > MaxStreamCount)
        {
            throw TransportParameterErrors.Invalid($"{id} above 2^60");
        }

        return count;
    }

    private static ConnectionId ReadConnectionId(TransportParameterId id, ReadOnlySpan<byte> value)
    {
        if (!ConnectionId.TryCreate(value, out ConnectionId connectionId))
        {
            throw TransportParameterErrors.Invalid($"{id} longer than 20 bytes");
        }

        return connectionId;
    }

    private static void WriteHeader(ref SpanWriter writer, TransportParameterId id, int length)
    {
        writer.WriteVarInt((ulong)id);
        writer.WriteVarInt((ulong)length);
    }

    private static void WriteInteger(ref SpanWriter writer, TransportParameterId id, ulong value, ulong defaultValue)
    {
        if (value == defaultValue)
        {
            return;
        }

        WriteHeader(ref writer, id, VarInt.EncodedLength(value));
        writer.WriteVarInt(value);
    }

    private static void WriteConnectionId(ref SpanWriter writer, TransportParameterId id, ConnectionId? connectionId)
    {
        if (connectionId is not { } value)
        {
            return;
        }

        WriteHeader(ref writer, id, value.Length);
        value.Span.CopyTo(writer.Reserve(value.Length));
    }

    private static void WriteGrease(ref SpanWriter writer, RandomSource random)
    {
        // N below 2^16 keeps the id in a 4-byte varint; the value is noise the peer must skip.
        ulong id = (31UL * (ulong)random.Next(1 << 16)) + 27;
        int length = random.Next(MaxGreaseValueLength + 1);
        writer.WriteVarInt(id);
        writer.WriteVarInt((ulong)length);
        random.Fill(writer.Reserve(length));
    }
}
