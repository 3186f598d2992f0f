using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Packets;
using Connet.Quic.Tests.Crypto;

namespace Connet.Quic.Tests.Packets;

/// <summary>RFC 9001 Appendix A.2, A.3 and A.5: building the sample packets byte for byte and opening them again.</summary>
public class SamplePacketProtectionTests
{
    [Fact]
    public void Client_initial_is_built_exactly_as_rfc9001_a2()
    {
        (byte[] clientSecret, _) = QuicKeys.DeriveInitialSecrets(Rfc9001Vectors.ClientDestinationConnectionId);
        using IPacketKey key = QuicKeys.CreatePacketKey(CipherSuite.Aes128GcmSha256, clientSecret);
        using IHeaderKey hp = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, clientSecret);
        byte[] payload = Rfc9001Vectors.ClientInitialPayload();
        byte[] buffer = new byte[1500];

        int headerLength = PacketWriter.WriteLongHeader(
            buffer, PacketType.Initial, Rfc9001Vectors.ClientDestinationConnectionId, [], [], 2, 4, out int lengthOffset, out int pnOffset);
        PacketWriter.PatchLength(buffer, lengthOffset, 4 + payload.Length + 16);
        Assert.Equal(Hex.Bytes(Rfc9001Vectors.ClientInitialUnprotectedHeader), buffer[..headerLength]);

        payload.CopyTo(buffer, headerLength);
        int length = PacketWriter.Protect(buffer, pnOffset, 4, 2, payload.Length, key, hp);

        Assert.Equal(1200, length);
        Assert.Equal(Hex.Bytes(Rfc9001Vectors.ClientInitialProtected), buffer[..length]);
    }

    [Fact]
    public void Client_initial_of_rfc9001_a2_parses_and_unprotects()
    {
        byte[] datagram = Hex.Bytes(Rfc9001Vectors.ClientInitialProtected);
        (byte[] clientSecret, _) = QuicKeys.DeriveInitialSecrets(Rfc9001Vectors.ClientDestinationConnectionId);
        using IPacketKey key = QuicKeys.CreatePacketKey(CipherSuite.Aes128GcmSha256, clientSecret);
        using IHeaderKey hp = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, clientSecret);

        Assert.True(PacketParser.TryParse(datagram, 8, out PacketHeader header));
        Assert.Equal(PacketType.Initial, header.Type);
        Assert.True(header.IsLongHeader);
        Assert.Equal(QuicVersion.Version1, header.Version);
        Assert.Equal(Rfc9001Vectors.ClientDestinationConnectionId, header.DestinationConnectionId(datagram).ToArray());
        Assert.Equal(0, header.SourceConnectionIdLength);
        Assert.Equal(0, header.TokenLength);
        Assert.Equal(18, header.PacketNumberOffset);
        Assert.Equal(1200, header.PacketLength);

        byte[] payload = Unprotect(header.Packet(datagram.AsSpan()), header.PacketNumberOffset, null, key, hp, out ulong packetNumber);

        Assert.Equal(2UL, packetNumber);
        Assert.Equal(Rfc9001Vectors.ClientInitialPayload(), payload);
        Assert.Equal(Hex.Bytes(Rfc9001Vectors.ClientInitialUnprotectedHeader), datagram[..22]);
    }

    [Fact]
    public void Server_initial_is_built_exactly_as_rfc9001_a3_and_opens_again()
    {
        (_, byte[] serverSecret) = QuicKeys.DeriveInitialSecrets(Rfc9001Vectors.ClientDestinationConnectionId);
        using IPacketKey key = QuicKeys.CreatePacketKey(CipherSuite.Aes128GcmSha256, serverSecret);
        using IHeaderKey hp = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, serverSecret);
        byte[] payload = Hex.Bytes(Rfc9001Vectors.ServerPayload);
        byte[] buffer = new byte[1500];

        int headerLength = PacketWriter.WriteLongHeader(
            buffer, PacketType.Initial, [], Rfc9001Vectors.ServerSourceConnectionId, [], 1, 2, out int lengthOffset, out int pnOffset);
        PacketWriter.PatchLength(buffer, lengthOffset, 2 + payload.Length + 16);
        Assert.Equal(Hex.Bytes(Rfc9001Vectors.ServerInitialUnprotectedHeader), buffer[..headerLength]);
        payload.CopyTo(buffer, headerLength);
        int length = PacketWriter.Protect(buffer, pnOffset, 2, 1, payload.Length, key, hp);

        byte[] expected = Hex.Bytes(Rfc9001Vectors.ServerInitialProtected);
        Assert.Equal(expected, buffer[..length]);

        // The client's view: no connection ID of its own yet, and packet 1 is the first it sees from the server.
        Assert.True(PacketParser.TryParse(expected, 0, out PacketHeader header));
        Assert.Equal(Rfc9001Vectors.ServerSourceConnectionId, header.SourceConnectionId(expected).ToArray());
        byte[] opened = Unprotect(header.Packet(expected.AsSpan()), header.PacketNumberOffset, null, key, hp, out ulong packetNumber);
        Assert.Equal(1UL, packetNumber);
        Assert.Equal(payload, opened);
    }

    [Fact]
    public void ChaCha20_short_header_packet_is_built_exactly_as_rfc9001_a5_and_opens_again()
    {
        byte[] secret = Hex.Bytes(Rfc9001Vectors.ChaChaSecret);
        using IPacketKey key = QuicKeys.CreatePacketKey(CipherSuite.ChaCha20Poly1305Sha256, secret);
        using IHeaderKey hp = QuicKeys.CreateHeaderKey(CipherSuite.ChaCha20Poly1305Sha256, secret);
        byte[] buffer = new byte[64];

        int headerLength = PacketWriter.WriteShortHeader(buffer, false, false, [], Rfc9001Vectors.ChaChaPacketNumber, 3, out int pnOffset);
        Assert.Equal(Hex.Bytes("4200bff4"), buffer[..headerLength]);
        buffer[headerLength] = 0x01; // PING
        int length = PacketWriter.Protect(buffer, pnOffset, 3, Rfc9001Vectors.ChaChaPacketNumber, 1, key, hp);

        byte[] expected = Hex.Bytes(Rfc9001Vectors.ChaChaProtected);
        Assert.Equal(expected, buffer[..length]);

        Assert.True(PacketParser.TryParse(expected, 0, out PacketHeader header));
        Assert.Equal(PacketType.OneRtt, header.Type);
        Assert.False(header.IsLongHeader);
        byte[] opened = Unprotect(expected, header.PacketNumberOffset, Rfc9001Vectors.ChaChaPacketNumber - 1, key, hp, out ulong packetNumber);
        Assert.Equal(Rfc9001Vectors.ChaChaPacketNumber, packetNumber);
        Assert.Equal([0x01], opened);
    }

    /// <summary>The receive path the connection uses: remove header protection, decode the number, open the payload.</summary>
    internal static byte[] Unprotect(Span<byte> packet, int pnOffset, ulong? largestReceived, IPacketKey key, IHeaderKey hp, out ulong packetNumber)
    {
        HeaderProtection.Remove(packet, pnOffset, hp, out int pnLength, out uint truncated);
        packetNumber = PacketNumberCoding.Decode(largestReceived, truncated, pnLength);
        int payloadOffset = pnOffset + pnLength;
        Span<byte> payload = packet[payloadOffset..^16];
        Assert.True(key.TryOpen(packetNumber, packet[..payloadOffset], payload, packet[^16..]));
        return payload.ToArray();
    }
}
