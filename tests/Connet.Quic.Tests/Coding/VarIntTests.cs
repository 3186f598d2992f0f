using Connet.Quic.Core.Coding;

namespace Connet.Quic.Tests.Coding;

public class VarIntTests
{
    [Theory]
    [InlineData("c2197c5eff14e88c", 151_288_809_941_952_652UL)]
    [InlineData("9d7f3e7d", 494_878_333UL)]
    [InlineData("7bbd", 15_293UL)]
    [InlineData("25", 37UL)]
    [InlineData("4025", 37UL)]
    public void Decodes_rfc9000_a1_examples(string hex, ulong expected)
    {
        byte[] bytes = Convert.FromHexString(hex);

        Assert.True(VarInt.TryRead(bytes, out ulong value, out int read));

        Assert.Equal(expected, value);
        Assert.Equal(bytes.Length, read);
    }

    [Theory]
    [InlineData("c2197c5eff14e88c", 151_288_809_941_952_652UL)]
    [InlineData("9d7f3e7d", 494_878_333UL)]
    [InlineData("7bbd", 15_293UL)]
    [InlineData("25", 37UL)]
    public void Encodes_rfc9000_a1_examples_in_shortest_form(string hex, ulong value)
    {
        byte[] buffer = new byte[8];

        int written = VarInt.Write(buffer, value);

        Assert.Equal(hex, Convert.ToHexStringLower(buffer, 0, written));
    }

    [Fact]
    public void Two_byte_form_of_37_matches_rfc9000_a1()
    {
        byte[] buffer = new byte[2];
        VarInt.Write(buffer, 37, 2);
        Assert.Equal("4025", Convert.ToHexStringLower(buffer));
    }

    [Fact]
    public void Truncated_input_is_rejected()
    {
        byte[] bytes = Convert.FromHexString("c2197c5eff14e88c");
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.False(VarInt.TryRead(bytes.AsSpan(0, length), out _, out _));
        }
    }

    [Fact]
    public void Values_beyond_62_bits_cannot_be_written()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VarInt.Write(new byte[8], 1UL << 62));
    }
}
