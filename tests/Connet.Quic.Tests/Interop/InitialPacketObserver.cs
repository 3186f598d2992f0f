using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Connet.Quic.Tests.Interop;

/// <summary>
/// Reads the TLS hellos out of QUIC v1 Initial packets as an on-path observer can (RFC 9001 §5.2:
/// Initial keys come from the client's chosen connection ID), to check which key exchange group a
/// handshake really used and whether it took a HelloRetryRequest. Written from the RFCs with the
/// BCL only, sharing no code with the stack under test, so a bug there cannot hide itself here.
/// Knows only the frames an Initial may carry (RFC 9000 §12.4); not thread-safe (one relay loop per direction).
/// </summary>
internal sealed class InitialPacketObserver
{
    public const ushort X25519 = 0x001d;
    public const ushort Secp256r1 = 0x0017;

    private const int ConnectionIdMaxLength = 20;
    private const byte TlsClientHello = 1;
    private const byte TlsServerHello = 2;
    private const ushort KeyShareExtension = 51;
    private const ushort SupportedGroupsExtension = 10;

    private static readonly byte[] InitialSaltV1 = Convert.FromHexString("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");

    // SHA-256("HelloRetryRequest"): the ServerHello.random that marks a HelloRetryRequest (RFC 8446 §4.1.3).
    private static readonly byte[] HelloRetryRequestRandom =
        Convert.FromHexString("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");

    private readonly object gate = new();
    private readonly SortedDictionary<long, byte[]> clientCrypto = [];
    private readonly SortedDictionary<long, byte[]> serverCrypto = [];
    private byte[]? initialConnectionId;
    private int retries;
    private int undecryptable;

    /// <summary>One client→server datagram, as it left the client.</summary>
    public void ObserveFromClient(ReadOnlySpan<byte> datagram) => Observe(datagram, fromClient: true);

    /// <summary>One server→client datagram, as it left the server.</summary>
    public void ObserveFromServer(ReadOnlySpan<byte> datagram) => Observe(datagram, fromClient: false);

    /// <summary>What the Initial crypto streams held so far (after the last Retry, the client's restarted stream).</summary>
    public HandshakeObservation Snapshot()
    {
        lock (gate)
        {
            var clientHellos = ReadMessages(clientCrypto)
                .Where(message => message.Type == TlsClientHello)
                .Select(message => ParseClientHello(message.Body))
                .ToList();
            var serverHellos = ReadMessages(serverCrypto)
                .Where(message => message.Type == TlsServerHello)
                .Select(message => ParseServerHello(message.Body))
                .ToList();
            return new HandshakeObservation(retries, undecryptable, clientHellos, serverHellos);
        }
    }

    private void Observe(ReadOnlySpan<byte> datagram, bool fromClient)
    {
        lock (gate)
        {
            // A malformed datagram only ends this observation; judging it is the endpoints' job.
            try
            {
                ObservePackets(datagram, fromClient);
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidDataException)
            {
                undecryptable++;
            }
        }
    }

    private void ObservePackets(ReadOnlySpan<byte> datagram, bool fromClient)
    {
        var offset = 0;

        // Bounded by the datagram: every iteration consumes at least the long header.
        while (offset < datagram.Length && (datagram[offset] & 0x80) != 0)
        {
            var packet = datagram[offset..];
            var firstByte = packet[0];
            var version = BinaryPrimitives.ReadUInt32BigEndian(packet[1..]);
            if (version != 1)
            {
                return;
            }

            var position = 5;
            var destination = ReadConnectionId(packet, ref position);
            var source = ReadConnectionId(packet, ref position);
            var type = (firstByte >> 4) & 0x3;
            if (type == 3)
            {
                // Retry (RFC 9000 §17.2.5): the client starts over with Initial keys from the
                // server's new connection ID and sends its ClientHello again from offset 0.
                initialConnectionId = source.ToArray();
                clientCrypto.Clear();
                retries++;
                return;
            }

            if (type == 0)
            {
                var tokenLength = ReadVarInt(packet, ref position);
                position = checked(position + (int)tokenLength);
            }

            var length = (int)ReadVarInt(packet, ref position);
            var packetEnd = checked(position + length);
            if (packetEnd > packet.Length)
            {
                throw new InvalidDataException("A long header packet runs past its datagram.");
            }

            if (type == 0)
            {
                if (fromClient && initialConnectionId is null)
                {
                    initialConnectionId = destination.ToArray();
                }

                if (initialConnectionId is not null)
                {
                    ObserveInitial(packet[..packetEnd].ToArray(), position, fromClient);
                }
            }

            offset += packetEnd;
        }
    }

    private void ObserveInitial(byte[] packet, int packetNumberOffset, bool fromClient)
    {
        var keys = InitialKeys.Derive(initialConnectionId!, fromClient);
        var sample = packet.AsSpan(packetNumberOffset + 4, 16);
        Span<byte> mask = stackalloc byte[16];
        using (var headerCipher = Aes.Create())
        {
            headerCipher.Key = keys.HeaderProtection;
            headerCipher.EncryptEcb(sample, mask, PaddingMode.None);
        }

        packet[0] ^= (byte)(mask[0] & 0x0f);
        var packetNumberLength = (packet[0] & 0x3) + 1;
        ulong packetNumber = 0;
        for (var i = 0; i < packetNumberLength; i++)
        {
            packet[packetNumberOffset + i] ^= mask[1 + i];
            packetNumber = (packetNumber << 8) | packet[packetNumberOffset + i];
        }

        // Initial packet numbers stay tiny, so the truncated number is the full one (RFC 9000 §17.1).
        var nonce = keys.Iv.ToArray();
        for (var i = 0; i < 8; i++)
        {
            nonce[nonce.Length - 1 - i] ^= (byte)(packetNumber >> (8 * i));
        }

        var payloadOffset = packetNumberOffset + packetNumberLength;
        var ciphertext = packet.AsSpan(payloadOffset, packet.Length - payloadOffset - 16);
        var tag = packet.AsSpan(packet.Length - 16);
        var plaintext = new byte[ciphertext.Length];
        using var aead = new AesGcm(keys.Key, 16);
        try
        {
            aead.Decrypt(nonce, ciphertext, tag, plaintext, packet.AsSpan(0, payloadOffset));
        }
        catch (AuthenticationTagMismatchException)
        {
            undecryptable++;
            return;
        }

        ReadFrames(plaintext, fromClient ? clientCrypto : serverCrypto);
    }

    private static void ReadFrames(ReadOnlySpan<byte> payload, SortedDictionary<long, byte[]> crypto)
    {
        var position = 0;

        // Bounded by the payload: every frame consumes at least its type byte.
        while (position < payload.Length)
        {
            var frameType = ReadVarInt(payload, ref position);
            switch (frameType)
            {
                case 0x00: // PADDING
                case 0x01: // PING
                    break;
                case 0x02: // ACK
                case 0x03: // ACK with ECN counts
                    ReadVarInt(payload, ref position);
                    ReadVarInt(payload, ref position);
                    var rangeCount = ReadVarInt(payload, ref position);
                    ReadVarInt(payload, ref position);
                    for (ulong i = 0; i < rangeCount * 2 + (frameType == 0x03 ? 3UL : 0UL); i++)
                    {
                        ReadVarInt(payload, ref position);
                    }

                    break;
                case 0x06: // CRYPTO
                    var cryptoOffset = (long)ReadVarInt(payload, ref position);
                    var cryptoLength = (int)ReadVarInt(payload, ref position);
                    crypto[cryptoOffset] = payload.Slice(position, cryptoLength).ToArray();
                    position += cryptoLength;
                    break;
                case 0x1c: // CONNECTION_CLOSE: the handshake ends here.
                    return;
                default:
                    throw new InvalidDataException($"Frame type 0x{frameType:x} is not allowed in an Initial packet.");
            }
        }
    }

    /// <summary>The handshake messages in the contiguous prefix of a crypto stream.</summary>
    private static List<(byte Type, byte[] Body)> ReadMessages(SortedDictionary<long, byte[]> crypto)
    {
        var stream = new MemoryStream();
        foreach (var (offset, data) in crypto)
        {
            if (offset > stream.Length)
            {
                break;
            }

            var skip = (int)(stream.Length - offset);
            if (skip < data.Length)
            {
                stream.Write(data, skip, data.Length - skip);
            }
        }

        var bytes = stream.ToArray();
        var messages = new List<(byte, byte[])>();
        var position = 0;
        while (position + 4 <= bytes.Length)
        {
            var length = (bytes[position + 1] << 16) | (bytes[position + 2] << 8) | bytes[position + 3];
            if (position + 4 + length > bytes.Length)
            {
                break;
            }

            messages.Add((bytes[position], bytes.AsSpan(position + 4, length).ToArray()));
            position += 4 + length;
        }

        return messages;
    }

    private static ClientHelloSeen ParseClientHello(byte[] body)
    {
        var position = 2 + 32; // legacy_version, random
        position += 1 + body[position]; // legacy_session_id
        position += 2 + BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(position)); // cipher_suites
        position += 1 + body[position]; // legacy_compression_methods
        var keyShares = new List<ushort>();
        var supported = new List<ushort>();
        foreach (var (type, data) in ReadExtensions(body, position))
        {
            if (type == KeyShareExtension)
            {
                // KeyShareClientHello: client_shares<0..2^16-1> of (group, key_exchange<1..2^16-1>).
                for (var entry = 2; entry + 4 <= data.Length; entry += 4 + BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(entry + 2)))
                {
                    keyShares.Add(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(entry)));
                }
            }
            else if (type == SupportedGroupsExtension)
            {
                for (var entry = 2; entry + 2 <= data.Length; entry += 2)
                {
                    supported.Add(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(entry)));
                }
            }
        }

        return new ClientHelloSeen(keyShares, supported);
    }

    private static ServerHelloSeen ParseServerHello(byte[] body)
    {
        var isRetryRequest = body.AsSpan(2, 32).SequenceEqual(HelloRetryRequestRandom);
        var position = 2 + 32;
        position += 1 + body[position]; // legacy_session_id_echo
        position += 2 + 1; // cipher_suite, legacy_compression_method
        ushort? group = null;
        foreach (var (type, data) in ReadExtensions(body, position))
        {
            if (type == KeyShareExtension)
            {
                // A ServerHello's KeyShareEntry and a HelloRetryRequest's selected_group both start with the group.
                group = BinaryPrimitives.ReadUInt16BigEndian(data);
            }
        }

        return new ServerHelloSeen(isRetryRequest, group);
    }

    private static List<(ushort Type, byte[] Data)> ReadExtensions(byte[] body, int position)
    {
        var end = position + 2 + BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(position));
        position += 2;
        var extensions = new List<(ushort, byte[])>();
        while (position + 4 <= end)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(position));
            var length = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(position + 2));
            extensions.Add((type, body.AsSpan(position + 4, length).ToArray()));
            position += 4 + length;
        }

        return extensions;
    }

    private static ReadOnlySpan<byte> ReadConnectionId(ReadOnlySpan<byte> packet, ref int position)
    {
        int length = packet[position];
        if (length > ConnectionIdMaxLength)
        {
            throw new InvalidDataException($"A connection ID of {length} bytes is longer than QUIC v1 allows.");
        }

        var id = packet.Slice(position + 1, length);
        position += 1 + length;
        return id;
    }

    private static ulong ReadVarInt(ReadOnlySpan<byte> data, ref int position)
    {
        var length = 1 << (data[position] >> 6);
        ulong value = (ulong)(data[position] & 0x3f);
        for (var i = 1; i < length; i++)
        {
            value = (value << 8) | data[position + i];
        }

        position += length;
        return value;
    }

    /// <summary>AEAD key, IV and header protection key of one side's Initial packets (RFC 9001 §5.2).</summary>
    private sealed record InitialKeys(byte[] Key, byte[] Iv, byte[] HeaderProtection)
    {
        public static InitialKeys Derive(byte[] connectionId, bool client)
        {
            var initialSecret = HKDF.Extract(HashAlgorithmName.SHA256, connectionId, InitialSaltV1);
            var secret = ExpandLabel(initialSecret, client ? "client in" : "server in", 32);
            return new InitialKeys(ExpandLabel(secret, "quic key", 16), ExpandLabel(secret, "quic iv", 12), ExpandLabel(secret, "quic hp", 16));
        }

        // HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
        private static byte[] ExpandLabel(byte[] secret, string label, int length)
        {
            var fullLabel = Encoding.ASCII.GetBytes("tls13 " + label);
            var info = new byte[2 + 1 + fullLabel.Length + 1];
            BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)length);
            info[2] = (byte)fullLabel.Length;
            fullLabel.CopyTo(info, 3);
            return HKDF.Expand(HashAlgorithmName.SHA256, secret, length, info);
        }
    }
}

/// <summary>The key shares a ClientHello carried and the groups it said it supports, as IANA code points.</summary>
internal sealed record ClientHelloSeen(IReadOnlyList<ushort> KeyShareGroups, IReadOnlyList<ushort> SupportedGroups);

/// <summary>A ServerHello, or a HelloRetryRequest naming the group it wants a share for.</summary>
internal sealed record ServerHelloSeen(bool IsHelloRetryRequest, ushort? Group);

/// <summary>The handshake as seen in Initial packets; <see cref="Undecryptable"/> counts what could not be read.</summary>
internal sealed record HandshakeObservation(
    int Retries,
    int Undecryptable,
    IReadOnlyList<ClientHelloSeen> ClientHellos,
    IReadOnlyList<ServerHelloSeen> ServerHellos)
{
    public override string ToString() =>
        $"retries {Retries}, undecryptable {Undecryptable}, " +
        $"ClientHellos [{string.Join("; ", ClientHellos.Select(h => $"shares {Hex(h.KeyShareGroups)} groups {Hex(h.SupportedGroups)}"))}], " +
        $"ServerHellos [{string.Join("; ", ServerHellos.Select(h => $"{(h.IsHelloRetryRequest ? "HRR" : "SH")} {h.Group:x4}"))}]";

    private static string Hex(IEnumerable<ushort> groups) => string.Join(',', groups.Select(g => g.ToString("x4", System.Globalization.CultureInfo.InvariantCulture)));
}
