using System.Buffers.Binary;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Packets;

namespace Connet.Quic.Tests.Endpoint;

/// <summary>Builds datagrams with just enough header for the endpoint's routing decisions.</summary>
internal static class EndpointTestPackets
{
    public static byte[] LongHeader(uint version, byte[] dcid, byte[] scid, int size, byte type = 0, byte[]? token = null)
    {
        byte[] datagram = new byte[size];
        var writer = new SpanWriter(datagram);
        writer.WriteByte((byte)(0xC0 | (type << 4) | 0x01));
        writer.WriteUInt32(version);
        writer.WriteByte((byte)dcid.Length);
        writer.WriteBytes(dcid);
        writer.WriteByte((byte)scid.Length);
        writer.WriteBytes(scid);
        if (version == 1 && type == 0)
        {
            token ??= [];
            writer.WriteVarInt((ulong)token.Length);
            writer.WriteBytes(token);
        }

        writer.WriteVarInt((ulong)writer.Remaining - 2, 2);
        return datagram;
    }

    /// <summary>A genuine client Initial (padding only), protected with the keys its DCID implies, as the endpoint checks.</summary>
    public static byte[] Initial(byte[] dcid, byte[] scid, int size = 1200, byte[]? token = null)
    {
        byte[] datagram = new byte[size];
        int headerLength = PacketWriter.WriteLongHeader(datagram, PacketType.Initial, dcid, scid, token ?? [], 0, 1, out int lengthOffset, out int packetNumberOffset);
        int payloadLength = size - headerLength - 16;
        PacketWriter.PatchLength(datagram, lengthOffset, 1 + payloadLength + 16);
        (byte[] clientSecret, _) = QuicKeys.DeriveInitialSecrets(dcid);
        using IPacketKey packetKey = QuicKeys.CreatePacketKey(CipherSuite.Aes128GcmSha256, clientSecret);
        using IHeaderKey headerKey = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, clientSecret);
        PacketWriter.Protect(datagram, packetNumberOffset, 1, 0, payloadLength, packetKey, headerKey);
        return datagram;
    }

    public static byte[] ShortHeader(byte[] dcid, int size)
    {
        byte[] datagram = new byte[size];
        datagram[0] = 0x41;
        dcid.CopyTo(datagram, 1);
        return datagram;
    }

    /// <summary>Reads back the fields of a Retry the endpoint sent.</summary>
    public static (byte[] Dcid, byte[] Scid, byte[] Token) ParseRetry(ReadOnlySpan<byte> retry)
    {
        Assert.Equal(0xF0, retry[0] & 0xF0);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(retry[1..]));
        int dcidLength = retry[5];
        byte[] dcid = retry.Slice(6, dcidLength).ToArray();
        int scidLength = retry[6 + dcidLength];
        byte[] scid = retry.Slice(7 + dcidLength, scidLength).ToArray();
        byte[] token = retry[(7 + dcidLength + scidLength)..^16].ToArray();
        return (dcid, scid, token);
    }
}
