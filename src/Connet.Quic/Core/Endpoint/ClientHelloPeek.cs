using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Endpoint;

/// <summary>
/// Reads the SNI host name out of a client's first Initial before any connection exists, so the server's options
/// callback can choose by name: Initial keys derive from the DCID alone (RFC 9001 §5.2), so anyone can open the
/// packet. Only a ClientHello that fits the first packet is seen; anything else yields no name. Never throws.
/// </summary>
internal static class ClientHelloPeek
{
    private const int MaxCryptoBytes = 4096;
    private const byte CryptoFrame = 0x06;

    private static ReadOnlySpan<byte> InitialSalt =>
        [0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a];

    public static bool TryReadServerName(ReadOnlySpan<byte> datagram, out string? serverName)
    {
        serverName = null;
        try
        {
            byte[] crypto = new byte[MaxCryptoBytes];
            int cryptoLength = DecryptFirstInitialCrypto(datagram, crypto);
            return cryptoLength > 0 && TryParseServerName(crypto.AsSpan(0, cryptoLength), out serverName);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Decrypts the datagram's first packet and gathers its CRYPTO bytes contiguous from offset 0; returns their count.</summary>
    private static int DecryptFirstInitialCrypto(ReadOnlySpan<byte> datagram, Span<byte> crypto)
    {
        if (!InvariantHeader.TryParse(datagram, 0, out InvariantHeader header) || !header.IsVersion1Initial)
        {
            return 0;
        }

        var reader = new SpanReader(datagram);
        reader.TrySkip(header.TokenOffset + header.TokenLength);
        if (!reader.TryReadVarInt(out ulong length) || length < 20 || length > (ulong)reader.Remaining)
        {
            return 0;
        }

        int packetNumberOffset = reader.Position;
        byte[] packet = datagram[..(packetNumberOffset + (int)length)].ToArray();

        Span<byte> clientSecret = stackalloc byte[32];
        Span<byte> initialSecret = stackalloc byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, header.DestinationConnectionId(datagram), InitialSalt, initialSecret);
        HkdfLabel.Expand(HashAlgorithmName.SHA256, initialSecret, "client in", [], clientSecret);
        Span<byte> key = stackalloc byte[16];
        Span<byte> iv = stackalloc byte[12];
        Span<byte> hp = stackalloc byte[16];
        HkdfLabel.Expand(HashAlgorithmName.SHA256, clientSecret, "quic key", [], key);
        HkdfLabel.Expand(HashAlgorithmName.SHA256, clientSecret, "quic iv", [], iv);
        HkdfLabel.Expand(HashAlgorithmName.SHA256, clientSecret, "quic hp", [], hp);

        // Header protection: the sample starts 4 bytes after the packet number's start (RFC 9001 §5.4.2).
        Span<byte> mask = stackalloc byte[16];
        using (var aes = Aes.Create())
        {
            aes.Key = hp.ToArray();
            aes.EncryptEcb(packet.AsSpan(packetNumberOffset + 4, 16), mask, PaddingMode.None);
        }

        packet[0] ^= (byte)(mask[0] & 0x0F);
        int packetNumberLength = (packet[0] & 0x03) + 1;
        ulong packetNumber = 0;
        for (int i = 0; i < packetNumberLength; i++)
        {
            packet[packetNumberOffset + i] ^= mask[1 + i];
            packetNumber = (packetNumber << 8) | packet[packetNumberOffset + i];
        }

        int payloadOffset = packetNumberOffset + packetNumberLength;
        int ciphertextLength = packet.Length - payloadOffset - 16;
        if (ciphertextLength <= 0)
        {
            return 0;
        }

        Span<byte> nonce = stackalloc byte[12];
        iv.CopyTo(nonce);
        Span<byte> packetNumberBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(packetNumberBytes, packetNumber);
        for (int i = 0; i < 8; i++)
        {
            nonce[4 + i] ^= packetNumberBytes[i];
        }

        byte[] plaintext = new byte[ciphertextLength];
        using (var aead = new AesGcm(key, 16))
        {
            aead.Decrypt(nonce, packet.AsSpan(payloadOffset, ciphertextLength), packet.AsSpan(payloadOffset + ciphertextLength, 16), plaintext, packet.AsSpan(0, payloadOffset));
        }

        return GatherCrypto(plaintext, crypto);
    }

    private static int GatherCrypto(ReadOnlySpan<byte> frames, Span<byte> crypto)
    {
        var reader = new SpanReader(frames);
        int contiguous = 0;
        while (reader.TryReadVarInt(out ulong type))
        {
            switch (type)
            {
                case 0x00 or 0x01:
                    // PADDING and PING carry nothing.
                    continue;
                case CryptoFrame:
                    if (!reader.TryReadVarInt(out ulong offset) || !reader.TryReadVarIntLengthPrefixed(out ReadOnlySpan<byte> data)
                        || offset + (ulong)data.Length > (ulong)crypto.Length)
                    {
                        return contiguous;
                    }

                    data.CopyTo(crypto[(int)offset..]);

                    // Frames may arrive out of order within the packet; only what joins offset 0 counts.
                    if ((int)offset <= contiguous)
                    {
                        contiguous = Math.Max(contiguous, (int)offset + data.Length);
                    }

                    continue;
                default:
                    // Anything else (ACK, CONNECTION_CLOSE) is not worth parsing just to peek.
                    return contiguous;
            }
        }

        return contiguous;
    }

    private static bool TryParseServerName(ReadOnlySpan<byte> handshake, out string? serverName)
    {
        serverName = null;
        var reader = new SpanReader(handshake);
        if (!reader.TryReadByte(out byte messageType) || messageType != 1
            || !reader.TryReadLengthPrefixed(3, out ReadOnlySpan<byte> body))
        {
            return false;
        }

        var hello = new SpanReader(body);
        if (!hello.TrySkip(2 + 32)
            || !hello.TryReadLengthPrefixed(1, out _)
            || !hello.TryReadLengthPrefixed(2, out _)
            || !hello.TryReadLengthPrefixed(1, out _)
            || !hello.TryReadLengthPrefixed(2, out ReadOnlySpan<byte> extensions))
        {
            return false;
        }

        var extensionReader = new SpanReader(extensions);
        while (extensionReader.TryReadUInt16(out ushort extensionType))
        {
            if (!extensionReader.TryReadLengthPrefixed(2, out ReadOnlySpan<byte> extension))
            {
                return false;
            }

            if (extensionType != 0)
            {
                continue;
            }

            // server_name: ServerNameList<2> of { name_type(1) = host_name(0), HostName<2> }.
            var names = new SpanReader(extension);
            if (names.TryReadLengthPrefixed(2, out ReadOnlySpan<byte> list))
            {
                var entries = new SpanReader(list);
                if (entries.TryReadByte(out byte nameType) && nameType == 0 && entries.TryReadLengthPrefixed(2, out ReadOnlySpan<byte> name))
                {
                    serverName = Encoding.ASCII.GetString(name);
                    return true;
                }
            }

            return false;
        }

        return true;
    }
}
