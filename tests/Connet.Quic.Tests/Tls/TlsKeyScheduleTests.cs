using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Tests.Tls;

/// <summary>The key schedule against the "Simple 1-RTT Handshake" trace of RFC 8448 §3 (TLS_AES_128_GCM_SHA256).</summary>
public class TlsKeyScheduleTests
{
    private static readonly byte[] SharedSecret = Convert.FromHexString("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d");
    private static readonly byte[] HelloHash = Convert.FromHexString("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
    private static readonly byte[] ServerFinishedHash = Convert.FromHexString("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");

    [Fact]
    public void Traffic_secrets_match_rfc8448()
    {
        using var schedule = new TlsKeySchedule(CipherSuite.Aes128GcmSha256);
        schedule.DeriveHandshakeSecrets(SharedSecret, HelloHash);
        schedule.DeriveApplicationSecrets(ServerFinishedHash);

        Assert.Equal("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21", Convert.ToHexStringLower(schedule.ClientHandshakeTrafficSecret));
        Assert.Equal("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", Convert.ToHexStringLower(schedule.ServerHandshakeTrafficSecret));
        Assert.Equal("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", Convert.ToHexStringLower(schedule.ClientApplicationTrafficSecret));
        Assert.Equal("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", Convert.ToHexStringLower(schedule.ServerApplicationTrafficSecret));
    }

    [Fact]
    public void Client_finished_matches_rfc8448_and_verifies_in_constant_time_compare()
    {
        using var schedule = new TlsKeySchedule(CipherSuite.Aes128GcmSha256);
        schedule.DeriveHandshakeSecrets(SharedSecret, HelloHash);
        byte[] expected = Convert.FromHexString("a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61");

        Assert.Equal(expected, schedule.ComputeFinished(schedule.ClientHandshakeTrafficSecret, ServerFinishedHash));
        Assert.True(schedule.VerifyFinished(schedule.ClientHandshakeTrafficSecret, ServerFinishedHash, expected));
        expected[31] ^= 1;
        Assert.False(schedule.VerifyFinished(schedule.ClientHandshakeTrafficSecret, ServerFinishedHash, expected));
        Assert.False(schedule.VerifyFinished(schedule.ClientHandshakeTrafficSecret, ServerFinishedHash, expected.AsSpan(0, 31)));
    }
}
