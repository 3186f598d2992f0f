using Connet.Quic.Core.Endpoint;

namespace Connet.Quic.Tests.Endpoint;

public class RetryPacketTests
{
    private static readonly byte[] OriginalDcid = Convert.FromHexString("8394c8f03e515708");

    [Fact]
    public void Write_matches_RFC9001_A4_sample_retry()
    {
        byte[] expected = Convert.FromHexString("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
        byte[] buffer = new byte[100];

        int length = RetryPacket.Write(buffer, [], Convert.FromHexString("f067a5502a4262b5"), "token"u8, OriginalDcid, 0x0F);

        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public void HasValidTag_accepts_the_sample_and_rejects_another_original_id_or_a_flipped_bit()
    {
        byte[] retry = Convert.FromHexString("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");

        Assert.True(RetryPacket.HasValidTag(retry, OriginalDcid));
        Assert.False(RetryPacket.HasValidTag(retry, Convert.FromHexString("8394c8f03e515709")));
        retry[10] ^= 1;
        Assert.False(RetryPacket.HasValidTag(retry, OriginalDcid));
    }
}
