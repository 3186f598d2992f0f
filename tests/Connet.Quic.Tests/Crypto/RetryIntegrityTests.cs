using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Tests.Crypto;

public class RetryIntegrityTests
{
    [Fact]
    public void Rfc9001_a4_retry_tag_verifies()
    {
        Assert.True(RetryIntegrity.Verify(Rfc9001Vectors.ClientDestinationConnectionId, Hex.Bytes(Rfc9001Vectors.Retry)));
    }

    [Fact]
    public void Rfc9001_a4_retry_tag_is_recomputed_exactly()
    {
        byte[] retry = Hex.Bytes(Rfc9001Vectors.Retry);
        byte[] tag = new byte[16];

        RetryIntegrity.ComputeTag(Rfc9001Vectors.ClientDestinationConnectionId, retry.AsSpan(0, retry.Length - 16), tag);

        Assert.Equal(retry[^16..], tag);
    }

    [Fact]
    public void Retry_tag_fails_for_another_original_connection_id_or_a_changed_packet()
    {
        byte[] retry = Hex.Bytes(Rfc9001Vectors.Retry);
        byte[] otherOdcid = (byte[])Rfc9001Vectors.ClientDestinationConnectionId.Clone();
        otherOdcid[0] ^= 1;
        Assert.False(RetryIntegrity.Verify(otherOdcid, retry));

        for (int i = 0; i < retry.Length; i++)
        {
            byte[] corrupted = (byte[])retry.Clone();
            corrupted[i] ^= 0x10;
            Assert.False(RetryIntegrity.Verify(Rfc9001Vectors.ClientDestinationConnectionId, corrupted));
        }

        Assert.False(RetryIntegrity.Verify(Rfc9001Vectors.ClientDestinationConnectionId, retry.AsSpan(0, 15)));
    }

    [Fact]
    public void Large_retry_tokens_use_the_pooled_buffer_path()
    {
        byte[] retry = new byte[2000];
        new Random(5).NextBytes(retry);
        RetryIntegrity.ComputeTag([1, 2, 3], retry.AsSpan(0, retry.Length - 16), retry.AsSpan(retry.Length - 16));

        Assert.True(RetryIntegrity.Verify([1, 2, 3], retry));
        Assert.False(RetryIntegrity.Verify([1, 2, 4], retry));
    }
}
