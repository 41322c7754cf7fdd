using FineTuneAgent.Actors.Dispatch;

namespace FineTuneAgent.Actors;

/// <summary>
/// Lifecycle and supervision, in Akka's order. Failure: suspend self and children, tell the
/// parent. Restart: PreRestart on the old instance (by default stops the children, then
/// PostStop), wait for those children to stop, construct the new instance, PostRestart on it (by
/// default PreStart), resume. Stop: stop the children, wait for them, PostStop, close the mailbox
/// (leftovers to dead letters), then tell the parent and the watchers.
/// </summary>
internal sealed partial class ActorCell
{
    private int _suspendCount;
    private bool _isFailed;
    private object? _failedMessage;
    private Exception? _failureCause;
    private IActorRef? _perpetrator;
    private Exception? _pendingRecreate;
    private volatile bool _terminating;
    private bool _terminated;

    private void HandleCreate()
    {
        try
        {
            NewActor().AroundPreStart();
        }
        catch (Exception e)
        {
            HandleInvokeFailure(new ActorInitializationException(Self, $"Exception while creating {Self.Path}: {e.Message}", e));
        }
    }

    private ActorBase NewActor()
    {
        _incarnation++;
        _behaviors.Clear();
        var previous = Current;
        Current = this;
        _constructing = true;
        try
        {
            var actor = Props.NewActor();
            actor.AfterConstruction();
            _actor = actor;
            _behaviors.Add(actor.ReceiveEntry);
            return actor;
        }
        finally
        {
            _constructing = false;
            Current = previous;
        }
    }

    private void ClearActor()
    {
        _actor = null;
        _behaviors.Clear();
        _awaitingTask = false;
        _incarnation++;
    }

    /// <summary>
    /// The actor failed (an exception from a message, a hook, or a child's escalated failure):
    /// suspend it and its children and let the parent's strategy decide.
    /// </summary>
    internal void HandleInvokeFailure(Exception cause, IActorRef? perpetrator = null)
    {
        if (_terminating || _isFailed)
        {
            PublishError(cause, _terminating ? "Exception while stopping" : "Exception while already failed");
            return;
        }
        _isFailed = true;
        _failureCause = cause;
        _failedMessage = _currentMessage;
        _perpetrator = perpetrator;
        _awaitingTask = false;
        _suspendCount++;
        foreach (var child in GetChildren())
        {
            if (!child.Equals(perpetrator))
            {
                ((IInternalActorRef)child).SendSystemMessage(new Suspend());
            }
        }
        if (ParentCell is null)
        {
            PublishError(cause, "The user guardian failed; stopping the actor system");
            Self.Stop();
            return;
        }
        ParentCell.SendSystemMessage(new Failed(Self, cause));
    }

    private void HandleFailed(Failed failed)
    {
        var stats = ChildStats(failed.Child);
        if (stats is null || _terminating || _stoppingChildren.Contains(failed.Child))
        {
            return; // an earlier incarnation, or a child already on its way out
        }
        var strategy = _actor?.SupervisorStrategyInternal ?? Props.SupervisorStrategy ?? SupervisorStrategy.DefaultStrategy;
        if (!strategy.HandleFailure(this, failed.Child, failed.Cause, stats, ChildrenStats()))
        {
            HandleInvokeFailure(failed.Cause, failed.Child); // Escalate: fail with the child's exception
        }
    }

    private void HandleSuspend()
    {
        _suspendCount++;
        foreach (var child in GetChildren())
        {
            ((IInternalActorRef)child).SendSystemMessage(new Suspend());
        }
    }

    private void HandleResume(bool causedByFailure)
    {
        if (causedByFailure && _actor is null && _failureCause is { } cause)
        {
            FaultRecreate(cause); // nothing to resume: creation failed
            return;
        }
        _suspendCount = Math.Max(0, _suspendCount - 1);
        var perpetrator = _perpetrator;
        if (causedByFailure)
        {
            ClearFailed();
        }
        foreach (var child in GetChildren())
        {
            ((IInternalActorRef)child).SendSystemMessage(new Resume(child.Equals(perpetrator)));
        }
    }

    private void ClearFailed()
    {
        _isFailed = false;
        _failedMessage = null;
        _failureCause = null;
        _perpetrator = null;
    }

    private void FaultRecreate(Exception cause)
    {
        if (_terminating)
        {
            return;
        }
        if (_actor is { } failed)
        {
            try
            {
                failed.AroundPreRestart(cause, _failedMessage);
            }
            catch (Exception e)
            {
                PublishError(e, "Exception in PreRestart");
            }
            finally
            {
                ClearActor();
            }
        }
        if (_stoppingChildren.Count == 0)
        {
            FinishRecreate(cause);
        }
        else
        {
            _pendingRecreate = cause;
        }
    }

    private void FinishRecreate(Exception cause)
    {
        _pendingRecreate = null;
        _suspendCount = Math.Max(0, _suspendCount - 1);
        ClearFailed();
        var survivors = GetChildren();
        try
        {
            NewActor().AroundPostRestart(cause);
        }
        catch (Exception e)
        {
            HandleInvokeFailure(new ActorInitializationException(Self, $"Exception while restarting {Self.Path}: {e.Message}", e));
            return;
        }
        foreach (var child in survivors)
        {
            ((IInternalActorRef)child).SendSystemMessage(new Recreate(cause));
        }
    }

    private void HandleTerminate()
    {
        if (_terminating)
        {
            return;
        }
        lock (_childrenLock)
        {
            _terminating = true; // under the lock: ActorOf on another thread must see it
        }
        _pendingRecreate = null;
        CancelReceiveTimeout();
        UnwatchWatchedActors();
        var children = GetChildren();
        foreach (var child in children)
        {
            Stop(child);
        }
        if (children.Count() == 0)
        {
            FinishTerminate();
        }
    }

    private void FinishTerminate()
    {
        if (_terminated)
        {
            return;
        }
        _terminated = true;
        try
        {
            _actor?.AroundPostStop();
        }
        catch (Exception e)
        {
            PublishError(e, "Exception in PostStop");
        }
        finally
        {
            ClearActor();
            System.EventStream.Unsubscribe(Self);
            _mailbox.Close();
            ParentCell?.SendSystemMessage(new DeathWatchNotification(Self, ExistenceConfirmed: true));
            TellWatchersWeDied();
            if (ParentCell is null)
            {
                System.OnGuardianTerminated();
            }
        }
    }
}
