using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>NEW_TOKEN (§19.7): an address validation token for a future connection. Token points into the packet.</summary>
internal readonly ref struct NewTokenFrame
{
    private const ulong Type = (ulong)FrameType.NewToken;

    public NewTokenFrame(ReadOnlySpan<byte> token)
    {
        Token = token;
    }

    public ReadOnlySpan<byte> Token { get; }

    public int EncodedLength => 1 + VarInt.EncodedLength((ulong)Token.Length) + Token.Length;

    public static NewTokenFrame Decode(scoped ref SpanReader reader)
    {
        ReadOnlySpan<byte> token = FrameDecoding.ReadLengthPrefixed(ref reader, Type);
        if (token.IsEmpty)
        {
            FrameDecoding.ThrowInvalid(Type, "empty NEW_TOKEN token");
        }

        return new NewTokenFrame(token);
    }

    public void Encode(ref SpanWriter writer)
    {
        if (Token.IsEmpty)
        {
            throw new InvalidOperationException("A NEW_TOKEN frame must carry a token.");
        }

        writer.WriteByte((byte)Type);
        writer.WriteVarInt((ulong)Token.Length);
        writer.WriteBytes(Token);
    }
}
