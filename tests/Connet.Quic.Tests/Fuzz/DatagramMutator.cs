namespace Connet.Quic.Tests.Fuzz;

/// <summary>Seeded hostile datagrams: mutations of captured real ones, and junk of every size that matters.</summary>
internal sealed class DatagramMutator(Random random, IReadOnlyList<byte[]> captured)
{
    private const int MaxDatagramLength = 1500;

    public byte[] Next() => random.Next(9) switch
    {
        0 => Truncated(),
        1 => BitFlipped(),
        2 => Overwritten(),
        3 => WithRandomConnectionId(),
        4 => Junk(random.Next(1, MaxDatagramLength + 1)),
        5 => Junk(random.Next(1, 21)),
        6 => Junk(MaxDatagramLength),
        7 => FakeInitial(),
        _ => Captured().ToArray(),
    };

    private byte[] Captured() => captured[random.Next(captured.Count)];

    private byte[] Truncated()
    {
        byte[] original = Captured();
        return original[..random.Next(1, original.Length)];
    }

    private byte[] BitFlipped()
    {
        byte[] copy = Captured().ToArray();
        int flips = random.Next(1, 9);
        for (int i = 0; i < flips; i++)
        {
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        }

        return copy;
    }

    private byte[] Overwritten()
    {
        byte[] copy = Captured().ToArray();
        int start = random.Next(copy.Length);
        random.NextBytes(copy.AsSpan(start, random.Next(1, Math.Min(64, copy.Length - start) + 1)));
        return copy;
    }

    /// <summary>A captured datagram whose destination connection ID is replaced: new to the server, or unroutable.</summary>
    private byte[] WithRandomConnectionId()
    {
        byte[] copy = Captured().ToArray();
        bool longHeader = (copy[0] & 0x80) != 0;
        int start = longHeader ? 6 : 1;
        int length = longHeader && copy.Length > 5 ? copy[5] : 8;
        if (start + length <= copy.Length)
        {
            random.NextBytes(copy.AsSpan(start, length));
        }

        return copy;
    }

    /// <summary>
    /// A well-formed v1 Initial header (fresh DCID, no token, a Length that covers the rest) over random bytes: passes
    /// every check an endpoint can make short of decrypting it.
    /// </summary>
    public byte[] FakeInitial()
    {
        byte[] datagram = Junk(random.Next(1200, MaxDatagramLength + 1));
        int offset = 0;
        datagram[offset++] = (byte)(0xC0 | random.Next(16));
        datagram[offset++] = 0;
        datagram[offset++] = 0;
        datagram[offset++] = 0;
        datagram[offset++] = 1;
        int destinationLength = random.Next(8, 21);
        datagram[offset++] = (byte)destinationLength;
        offset += destinationLength;
        int sourceLength = random.Next(0, 21);
        datagram[offset++] = (byte)sourceLength;
        offset += sourceLength;
        datagram[offset++] = 0; // token length
        int remaining = datagram.Length - offset - 2;
        datagram[offset++] = (byte)(0x40 | (remaining >> 8));
        datagram[offset] = (byte)remaining;
        return datagram;
    }

    private byte[] Junk(int length)
    {
        byte[] junk = new byte[length];
        random.NextBytes(junk);
        return junk;
    }
}
