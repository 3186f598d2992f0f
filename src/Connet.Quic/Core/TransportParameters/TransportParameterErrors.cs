namespace Connet.Quic.Core.Parameters;

/// <summary>Builds the TRANSPORT_PARAMETER_ERROR every malformed or forbidden parameter is reported as (§7.4, §18.2).</summary>
internal static class TransportParameterErrors
{
    public static QuicProtocolException Invalid(string reason) =>
        new(TransportErrorCode.TransportParameterError, reason);
}
