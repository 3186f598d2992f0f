using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// What client and server handshakes share: per-level message reassembly, the level we currently read at, the
/// transcript, key schedule, and the queues of outgoing handshake bytes and derived secrets.
/// </summary>
internal abstract class TlsSessionBase : ITlsSession
{
    private readonly TlsMessageBuffer[] _incoming = [new(), new(), new()];
    private readonly Queue<(EncryptionLevel Level, byte[] Data)> _outgoing = new();
    private readonly Queue<TlsSecrets> _secrets = new();
    private bool _failed;

    protected TlsSessionBase(byte[] localTransportParameters) => LocalTransportParameters = localTransportParameters;

    public abstract bool IsClient { get; }

    public bool IsHandshakeComplete { get; protected set; }

    public ReadOnlyMemory<byte> PeerTransportParameters { get; protected set; }

    public ReadOnlyMemory<byte> NegotiatedApplicationProtocol { get; protected set; }

    public X509Certificate2? PeerCertificate { get; protected set; }

    public string? ServerName { get; protected set; }

    public CipherSuite? NegotiatedCipherSuite => KeySchedule?.CipherSuite;

    protected byte[] LocalTransportParameters { get; }

    protected TlsTranscript Transcript { get; } = new();

    protected TlsKeySchedule? KeySchedule { get; set; }

    /// <summary>The only level at which the next handshake message may arrive.</summary>
    protected EncryptionLevel ReadLevel { get; set; } = EncryptionLevel.Initial;

    /// <summary>The peer's certificates (leaf first) once received; disposed with the session except the leaf exposed as PeerCertificate.</summary>
    protected List<X509Certificate2> PeerChain { get; set; } = [];

    public virtual void Start()
    {
    }

    public void HandleCryptoData(EncryptionLevel level, ReadOnlySpan<byte> data)
    {
        if (_failed)
        {
            throw TlsAlert.Error(TlsAlert.UnexpectedMessage, "The TLS handshake already failed.");
        }

        try
        {
            if (data.IsEmpty)
            {
                return;
            }

            if (level != ReadLevel)
            {
                throw TlsAlert.Error(TlsAlert.UnexpectedMessage, $"TLS handshake data arrived at the {level} level while expecting {ReadLevel}.");
            }

            TlsMessageBuffer buffer = _incoming[(int)level];
            buffer.Append(data);
            while (buffer.TryTakeMessage(out TlsHandshakeType type, out byte[] message))
            {
                HandleMessage(type, message);
                if (ReadLevel != level)
                {
                    // RFC 8446 §5.1: handshake messages must not span a key change.
                    if (!buffer.IsEmpty)
                    {
                        throw TlsAlert.Error(TlsAlert.UnexpectedMessage, $"TLS handshake data continues at the {level} level after a key change.");
                    }

                    break;
                }
            }
        }
        catch
        {
            _failed = true;
            throw;
        }
    }

    public bool TryTakeOutgoing(out EncryptionLevel level, out byte[] data)
    {
        if (_outgoing.TryDequeue(out (EncryptionLevel Level, byte[] Data) item))
        {
            level = item.Level;
            data = item.Data;
            return true;
        }

        level = default;
        data = [];
        return false;
    }

    public bool TryTakeSecrets(out TlsSecrets secrets) => _secrets.TryDequeue(out secrets!);

    public void Dispose()
    {
        Transcript.Dispose();
        KeySchedule?.Dispose();
        DisposeKeyShares();
        foreach (X509Certificate2 certificate in PeerChain)
        {
            if (!ReferenceEquals(certificate, PeerCertificate))
            {
                certificate.Dispose();
            }
        }

        PeerChain = [];
    }

    /// <summary>Handles one complete handshake message (4-byte header included) that arrived at <see cref="ReadLevel"/>.</summary>
    protected abstract void HandleMessage(TlsHandshakeType type, byte[] message);

    protected abstract void DisposeKeyShares();

    protected static ReadOnlyMemory<byte> Body(byte[] message) => message.AsMemory(4);

    protected static QuicProtocolException Unexpected(TlsHandshakeType type, string state) =>
        TlsAlert.Error(TlsAlert.UnexpectedMessage, $"Unexpected TLS {type} message while {state}.");

    /// <summary>Queues a handshake message for sending and adds it to the transcript.</summary>
    protected void Send(EncryptionLevel level, byte[] message)
    {
        Transcript.Append(message);
        _outgoing.Enqueue((level, message));
    }

    protected void EmitSecrets(EncryptionLevel level, byte[] clientSecret, byte[] serverSecret) =>
        _secrets.Enqueue(new TlsSecrets(level, KeySchedule!.CipherSuite, clientSecret, serverSecret));

    protected static byte[] EncodeSimpleMessage(TlsHandshakeType type, ReadOnlySpan<byte> body)
    {
        byte[] message = new byte[4 + body.Length];
        var w = new SpanWriter(message);
        TlsVectorMark mark = w.BeginMessage(type);
        w.WriteBytes(body);
        w.EndVector(mark);
        return message;
    }

    protected static byte[] EncodeCertificateVerify(TlsSignatureScheme scheme, byte[] signature)
    {
        byte[] message = new byte[8 + signature.Length];
        var w = new SpanWriter(message);
        TlsVectorMark mark = w.BeginMessage(TlsHandshakeType.CertificateVerify);
        w.WriteUInt16((ushort)scheme);
        w.WriteVector(2, signature);
        w.EndVector(mark);
        return message;
    }

    /// <summary>Sends Certificate and CertificateVerify for our certificate (chain: leaf first).</summary>
    protected void SendCertificateAndVerify(EncryptionLevel level, IReadOnlyList<X509Certificate2> chain, IReadOnlyCollection<ushort> peerSchemes)
    {
        X509Certificate2 leaf = chain[0];
        string role = IsClient ? "client" : "server";
        TlsSignatureScheme scheme = TlsSignatures.ChooseScheme(leaf, peerSchemes) ??
            throw TlsAlert.Error(TlsAlert.HandshakeFailure, $"The {role} certificate's key cannot sign with any signature scheme the peer accepts.");
        Send(level, TlsCertificateMessage.Encode(chain));
        byte[] content = TlsSignatures.SignedContent(!IsClient, Transcript.CurrentHash());
        Send(level, EncodeCertificateVerify(scheme, TlsSignatures.Sign(leaf, scheme, content)));
    }

    /// <summary>Checks the peer's CertificateVerify against the transcript so far (before the message itself).</summary>
    protected void VerifyPeerCertificateVerify(byte[] message)
    {
        var reader = new SpanReader(Body(message).Span);
        ushort scheme = reader.ReadUInt16("CertificateVerify algorithm");
        ReadOnlySpan<byte> signature = reader.ReadVector(2, 1, ushort.MaxValue, "CertificateVerify signature");
        reader.ExpectEnd("CertificateVerify");
        if (!TlsSignatures.VerifiableSchemes.Contains((TlsSignatureScheme)scheme))
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, $"CertificateVerify uses signature scheme 0x{scheme:x4}, which was not offered.");
        }

        string role = IsClient ? "server" : "client";
        byte[] content = TlsSignatures.SignedContent(IsClient, Transcript.CurrentHash());
        if (!TlsSignatures.Verify(PeerChain[0], (TlsSignatureScheme)scheme, content, signature))
        {
            throw TlsAlert.Error(TlsAlert.DecryptError, $"The {role}'s CertificateVerify signature does not match its certificate.");
        }

        PeerCertificate = PeerChain[0];
        Transcript.Append(message);
    }

    /// <summary>Checks the peer's Finished (RFC 8446 §4.4.4) and adds it to the transcript.</summary>
    protected void VerifyPeerFinished(byte[] message, byte[] peerHandshakeSecret)
    {
        ReadOnlySpan<byte> verifyData = Body(message).Span;
        if (verifyData.Length != KeySchedule!.CipherSuite.HashLength())
        {
            throw TlsAlert.Decode("Finished verify_data has the wrong length");
        }

        if (!KeySchedule.VerifyFinished(peerHandshakeSecret, Transcript.CurrentHash(), verifyData))
        {
            throw TlsAlert.Error(TlsAlert.DecryptError, $"The {(IsClient ? "server" : "client")}'s Finished does not match the handshake transcript.");
        }

        Transcript.Append(message);
    }

    protected void SendFinished(EncryptionLevel level, byte[] ownHandshakeSecret) =>
        Send(level, EncodeSimpleMessage(TlsHandshakeType.Finished, KeySchedule!.ComputeFinished(ownHandshakeSecret, Transcript.CurrentHash())));

    /// <summary>Takes the peer's Certificate message into <see cref="PeerChain"/> and validates it per the SslStream policy.</summary>
    protected void ReceiveCertificate(byte[] message, X509ChainPolicy? policy, RemoteCertificateValidationCallback? callback, object? sender, string? expectedHost)
    {
        PeerChain = TlsCertificateMessage.Parse(Body(message).Span);
        Transcript.Append(message);
        if (PeerChain.Count == 0)
        {
            return;
        }

        try
        {
            TlsCertificateValidator.Validate(PeerChain, peerIsServer: IsClient, policy, callback, sender ?? this, expectedHost);
        }
        catch (CryptographicException)
        {
            // X509Certificate2 decodes extensions lazily, so a malformed one surfaces only when validation reads it.
            throw TlsAlert.Error(TlsAlert.BadCertificate, $"The {(IsClient ? "server" : "client")} certificate is malformed.");
        }
    }

    /// <summary>Whether a certificate can be used to sign (has a private key of a kind we can sign with).</summary>
    protected static bool CanSign(X509Certificate2? certificate) => certificate is { HasPrivateKey: true };
}
