using Connet.Quic.Core.Connection;
using Connet.Quic.Io;

namespace Connet.Quic.Tests.Api;

public class CloseInfoMappingTests
{
    [Fact]
    public void Peer_application_close_carries_the_code_and_reason()
    {
        QuicException exception = CloseInfoMapping.ToException(new ConnectionCloseInfo(ConnectionCloseReason.PeerApplication, 42, 0, "bye"));

        Assert.Equal(QuicError.ConnectionAborted, exception.QuicError);
        Assert.Equal(42, exception.ApplicationErrorCode);
        Assert.Equal("The peer closed the connection with application error 42: 'bye'", exception.Message);
    }

    [Fact]
    public void Local_tls_failure_reads_as_a_handshake_failure_with_the_transport_code()
    {
        var info = new ConnectionCloseInfo(
            ConnectionCloseReason.LocalTransport, 0x12a, 0x06, "the server certificate for 'x' is not trusted (PartialChain)");

        QuicException exception = CloseInfoMapping.ToException(info);

        Assert.Equal(QuicError.TransportError, exception.QuicError);
        Assert.Equal(0x12a, exception.TransportErrorCode);
        Assert.Equal("TLS handshake failed: the server certificate for 'x' is not trusted (PartialChain)", exception.Message);
    }

    [Theory]
    [InlineData((int)ConnectionCloseReason.IdleTimeout, QuicError.ConnectionIdle)]
    [InlineData((int)ConnectionCloseReason.HandshakeTimeout, QuicError.ConnectionTimeout)]
    [InlineData((int)ConnectionCloseReason.LocalApplication, QuicError.OperationAborted)]
    [InlineData((int)ConnectionCloseReason.StatelessReset, QuicError.ConnectionAborted)]
    public void Other_reasons_map_to_their_QuicError(int reason, QuicError expected)
    {
        var info = new ConnectionCloseInfo((ConnectionCloseReason)reason, 0, 0, string.Empty);
        Assert.Equal(expected, CloseInfoMapping.ToException(info).QuicError);
    }

    [Fact]
    public void Peer_refusal_and_transport_errors_keep_the_transport_code()
    {
        QuicException refused = CloseInfoMapping.ToException(new ConnectionCloseInfo(ConnectionCloseReason.PeerTransport, 0x02, 0, string.Empty));
        Assert.Equal(QuicError.ConnectionRefused, refused.QuicError);

        QuicException violation = CloseInfoMapping.ToException(new ConnectionCloseInfo(ConnectionCloseReason.PeerTransport, 0x0a, 0x08, "bad frame"));
        Assert.Equal(QuicError.TransportError, violation.QuicError);
        Assert.Equal(0x0a, violation.TransportErrorCode);
        Assert.Contains("ProtocolViolation", violation.Message, StringComparison.Ordinal);
    }
}
