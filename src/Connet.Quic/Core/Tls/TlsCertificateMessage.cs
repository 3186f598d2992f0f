using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Tls;

/// <summary>The Certificate message (RFC 8446 §4.4.2): X.509 entries, leaf first, with per-entry extensions ignored.</summary>
internal static class TlsCertificateMessage
{
    public const int MaxCertificates = 10;

    public static byte[] Encode(IReadOnlyList<X509Certificate2> chain)
    {
        var encoded = chain.Select(certificate => certificate.RawData).ToList();
        byte[] buffer = new byte[16 + encoded.Sum(der => der.Length + 5)];
        var w = new SpanWriter(buffer);
        TlsVectorMark message = w.BeginMessage(TlsHandshakeType.Certificate);
        w.WriteByte(0); // certificate_request_context: empty during the handshake.
        TlsVectorMark list = w.BeginVector(3);
        foreach (byte[] der in encoded)
        {
            w.WriteVector(3, der);
            w.WriteUInt16(0);
        }

        w.EndVector(list);
        w.EndVector(message);
        return buffer.AsSpan(0, w.Position).ToArray();
    }

    /// <summary>Parses the certificates (possibly none); the caller owns and disposes them.</summary>
    public static List<X509Certificate2> Parse(ReadOnlySpan<byte> body)
    {
        var reader = new SpanReader(body);
        if (reader.ReadVector(1, 0, 255, "certificate_request_context").Length != 0)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, "Certificate carries a certificate_request_context during the handshake.");
        }

        var list = new SpanReader(reader.ReadVector(3, 0, TlsMessageBuffer.MaxCertificateMessageLength, "certificate_list"));
        reader.ExpectEnd("Certificate");
        var certificates = new List<X509Certificate2>();
        try
        {
            while (!list.IsEmpty)
            {
                if (certificates.Count == MaxCertificates)
                {
                    throw TlsAlert.Error(TlsAlert.BadCertificate, $"The peer sent more than {MaxCertificates} certificates.");
                }

                ReadOnlySpan<byte> der = list.ReadVector(3, 1, TlsMessageBuffer.MaxCertificateMessageLength, "cert_data");
                list.ReadVector(2, 0, ushort.MaxValue, "CertificateEntry extensions");
                try
                {
                    certificates.Add(X509CertificateLoader.LoadCertificate(der));
                }
                catch (CryptographicException)
                {
                    throw TlsAlert.Error(TlsAlert.BadCertificate, "The peer sent a certificate that is not valid DER X.509.");
                }
            }
        }
        catch
        {
            foreach (X509Certificate2 certificate in certificates)
            {
                certificate.Dispose();
            }

            throw;
        }

        return certificates;
    }
}
