using System.Text;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// Peeks at a ClientHello at the start of the Initial CRYPTO stream so a listener can choose server options
/// (certificate, ALPN) by SNI before creating the server session.
/// </summary>
internal static class TlsClientHelloInfo
{
    /// <summary>
    /// False when <paramref name="cryptoData"/> does not yet hold a complete ClientHello or it is malformed
    /// (the server session will reject it with the proper alert).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> cryptoData, out string? serverName, out List<string> alpn)
    {
        serverName = null;
        alpn = [];
        if (cryptoData.Length < 4 || cryptoData[0] != (byte)TlsHandshakeType.ClientHello)
        {
            return false;
        }

        int length = (cryptoData[1] << 16) | (cryptoData[2] << 8) | cryptoData[3];
        if (length > TlsMessageBuffer.MaxMessageLength || cryptoData.Length < 4 + length)
        {
            return false;
        }

        TlsClientHello hello;
        try
        {
            hello = TlsClientHello.Parse(cryptoData.Slice(4, length).ToArray());
        }
        catch (QuicProtocolException)
        {
            return false;
        }

        serverName = hello.ServerName;
        alpn = hello.ApplicationProtocols.Select(protocol => Encoding.UTF8.GetString(protocol)).ToList();
        return true;
    }
}
