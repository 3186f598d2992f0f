using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Frames;
using Connet.Quic.Core.Packets;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Core.Endpoint;

/// <summary>
/// Reads the SNI host name out of a client's first Initial before any connection exists, so the server's options
/// callback can choose by name: Initial keys derive from the DCID alone (RFC 9001 §5.2), so anyone can open the
/// packet. Only a ClientHello that fits the first packet is seen; anything else yields no name. Never throws.
/// </summary>
internal static class ClientHelloPeek
{
    private const int MaxCryptoBytes = 4096;

    public static bool TryReadServerName(ReadOnlySpan<byte> datagram, out string? serverName)
    {
        serverName = null;
        try
        {
            byte[] crypto = new byte[MaxCryptoBytes];
            int cryptoLength = DecryptFirstInitialCrypto(datagram, crypto);
            return cryptoLength > 0 && TlsClientHelloInfo.TryParse(crypto.AsSpan(0, cryptoLength), out serverName, out _);
        }
        catch (QuicProtocolException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the datagram's first packet is an Initial that authenticates under the keys its DCID implies: only then
    /// is it worth connection state, so forged Initials cannot fill the accept backlog.
    /// </summary>
    public static bool IsAuthenticInitial(ReadOnlySpan<byte> datagram)
    {
        try
        {
            return DecryptFirstInitialCrypto(datagram, new byte[MaxCryptoBytes]) >= 0;
        }
        catch (QuicProtocolException)
        {
            return false;
        }
    }

    /// <summary>Opens the datagram's first packet and gathers its CRYPTO bytes contiguous from offset 0; returns their count, or -1 when it does not open.</summary>
    private static int DecryptFirstInitialCrypto(ReadOnlySpan<byte> datagram, Span<byte> crypto)
    {
        if (!PacketParser.TryParse(datagram, 0, out PacketHeader header) || header.Type != PacketType.Initial || !header.IsVersionSupported
            || header.DestinationConnectionIdLength > ConnectionId.MaxLength)
        {
            return -1;
        }

        byte[] packet = datagram[..header.PacketLength].ToArray();
        (byte[] clientSecret, _) = QuicKeys.DeriveInitialSecrets(header.DestinationConnectionId(packet));
        using IHeaderKey headerKey = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, clientSecret);
        using IPacketKey packetKey = QuicKeys.CreatePacketKey(CipherSuite.Aes128GcmSha256, clientSecret);

        HeaderProtection.Remove(packet, header.PacketNumberOffset, headerKey, out int packetNumberLength, out uint truncated);
        int payloadOffset = header.PacketNumberOffset + packetNumberLength;
        Span<byte> payload = packet.AsSpan(payloadOffset, packet.Length - payloadOffset - 16);
        if (!packetKey.TryOpen(PacketNumberCoding.Decode(null, truncated, packetNumberLength), packet.AsSpan(0, payloadOffset), payload, packet.AsSpan(packet.Length - 16)))
        {
            return -1;
        }

        return GatherCrypto(payload, crypto);
    }

    private static int GatherCrypto(ReadOnlySpan<byte> frames, Span<byte> crypto)
    {
        var reader = new SpanReader(frames);
        int contiguous = 0;
        while (!reader.IsEmpty)
        {
            switch (FrameTypes.Read(ref reader, out _))
            {
                case FrameType.Padding:
                    PaddingFrame.Decode(ref reader);
                    continue;
                case FrameType.Ping:
                    continue;
                case FrameType.Crypto:
                    CryptoFrame frame = CryptoFrame.Decode(ref reader);
                    if (frame.Offset + (ulong)frame.Data.Length > (ulong)crypto.Length)
                    {
                        return contiguous;
                    }

                    frame.Data.CopyTo(crypto[(int)frame.Offset..]);

                    // Frames may arrive out of order within the packet; only what joins offset 0 counts.
                    if ((int)frame.Offset <= contiguous)
                    {
                        contiguous = Math.Max(contiguous, (int)frame.Offset + frame.Data.Length);
                    }

                    continue;
                default:
                    // Anything else (ACK, CONNECTION_CLOSE) is not worth parsing just to peek.
                    return contiguous;
            }
        }

        return contiguous;
    }
}
