using Cnr.Process;
using Xunit;

namespace Cnr.Tests.Process;

public class SyncSocketTests
{
    [Fact]
    public void Send_AMessageFarBiggerThanOneDatagram_ArrivesWholeAsOneMessage()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (a) using (b)
        {
            var big = new byte[5 * 1024 * 1024 + 17];
            new Random(1).NextBytes(big);
            // The socket buffer holds a few pieces only: the sender blocks until the reader takes them.
            var sender = Task.Run(() => { a.Send(SyncMessage.Config, big); a.Send(SyncMessage.Created); });
            var msg = b.Receive();
            Assert.Equal(SyncMessage.Config, msg!.Value.Type);
            Assert.Equal(big, msg.Value.Payload);
            Assert.Equal(SyncMessage.Created, b.Receive()!.Value.Type);
            sender.Wait();
        }
    }

    [Fact]
    public void Receive_AfterThePeerClosed_IsNull_AndSendSaysThePeerIsGone()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (b)
        {
            a.Send(SyncMessage.Ready);
            a.Dispose();
            Assert.Equal(SyncMessage.Ready, b.Receive()!.Value.Type);
            Assert.Null(b.Receive());
            Assert.Throws<SyncPeerGoneException>(() => b.Send(SyncMessage.Go));
        }
    }

    [Fact]
    public void Receive_WhenThePeerDiedWithOurMessageUnread_IsNullNotAnErrno()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (b)
        {
            b.Send(SyncMessage.Go);   // never read: the close makes b's next recv ECONNRESET
            a.Dispose();
            Assert.Null(b.Receive());
        }
    }

    [Fact]
    public void Receive_DontWait_OnAnEmptyLiveSocket_IsNull()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (a) using (b) Assert.Null(b.Receive(dontWait: true));
    }
}
