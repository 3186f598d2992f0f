using System.Buffers.Binary;
using Connet.Quic.Core.Coding;

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

    public static byte[] Initial(byte[] dcid, byte[] scid, int size = 1200, byte[]? token = null) =>
        LongHeader(1, dcid, scid, size, 0, token);

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
