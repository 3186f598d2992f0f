using System.Buffers.Binary;
using Connet.Quic.Core;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Tests.Tls;

/// <summary>Takes a real ClientHello from a client session and rewrites its extensions to build malformed variants.</summary>
internal static class ClientHelloEditor
{
    public static byte[] RealClientHello(TlsClientConfig? config = null)
    {
        using ITlsSession client = TlsSession.CreateClient(config ?? TlsPair.ClientConfig(), TlsPair.ClientParameters);
        client.Start();
        Assert.True(client.TryTakeOutgoing(out EncryptionLevel level, out byte[] hello));
        Assert.Equal(EncryptionLevel.Initial, level);
        return hello;
    }

    /// <summary>Splits a ClientHello into the bytes before the extensions block and the (type, body) list.</summary>
    public static (byte[] Prefix, List<(ushort Type, byte[] Body)> Extensions) Split(byte[] hello)
    {
        int position = 4 + 2 + 32;
        position += 1 + hello[position];
        position += 2 + BinaryPrimitives.ReadUInt16BigEndian(hello.AsSpan(position));
        position += 1 + hello[position];
        byte[] prefix = hello[4..position];
        int end = position + 2 + BinaryPrimitives.ReadUInt16BigEndian(hello.AsSpan(position));
        position += 2;
        var extensions = new List<(ushort, byte[])>();
        while (position < end)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(hello.AsSpan(position));
            int length = BinaryPrimitives.ReadUInt16BigEndian(hello.AsSpan(position + 2));
            extensions.Add((type, hello.AsSpan(position + 4, length).ToArray()));
            position += 4 + length;
        }

        return (prefix, extensions);
    }

    public static byte[] Join(byte[] prefix, IEnumerable<(ushort Type, byte[] Body)> extensions)
    {
        var block = new List<byte>();
        foreach ((ushort type, byte[] body) in extensions)
        {
            block.Add((byte)(type >> 8));
            block.Add((byte)type);
            block.Add((byte)(body.Length >> 8));
            block.Add((byte)body.Length);
            block.AddRange(body);
        }

        byte[] bodyBytes = [.. prefix, (byte)(block.Count >> 8), (byte)block.Count, .. block];
        return [1, (byte)(bodyBytes.Length >> 16), (byte)(bodyBytes.Length >> 8), (byte)bodyBytes.Length, .. bodyBytes];
    }

    public static byte[] Edit(Func<List<(ushort Type, byte[] Body)>, IEnumerable<(ushort Type, byte[] Body)>> edit)
    {
        (byte[] prefix, List<(ushort Type, byte[] Body)> extensions) = Split(RealClientHello());
        return Join(prefix, edit(extensions));
    }
}
