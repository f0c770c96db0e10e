import { Controller, Get, Headers, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { callerTenant, requireAdmin } from './caller';
import {
  AdminListRecordsQuery,
  ErrorBody,
  ListRecordsQuery,
  RecordPage,
  RecordView,
} from './records.dto';
import { RecordsService } from './records.service';

type Hdrs = Record<string, string | string[] | undefined>;

const notFound = () =>
  new NotFoundException({ message: 'Not Found', status: 404, details: 'UnknownRecord' });

@ApiTags('audit log')
@ApiResponse({ status: 400, type: ErrorBody })
@ApiResponse({ status: 401, type: ErrorBody })
@Controller('api/v0/logs/records')
export class RecordsController {
  constructor(private readonly records: RecordsService) {}

  @Get()
  @ApiOperation({ summary: "The caller's tenant's records, newest first" })
  @ApiOkResponse({ type: RecordPage })
  list(@Headers() h: Hdrs, @Query() q: ListRecordsQuery): Promise<RecordPage> {
    return this.records.list(callerTenant(h), q);
  }

  @Get(':requestId')
  @ApiOperation({ summary: "One record of the caller's tenant by request id" })
  @ApiOkResponse({ type: RecordView })
  @ApiResponse({ status: 404, type: ErrorBody })
  async one(@Headers() h: Hdrs, @Param('requestId') id: string): Promise<RecordView> {
    return (await this.records.one(callerTenant(h), id)) ?? Promise.reject(notFound());
  }
}

@ApiTags('audit log (admin)')
@ApiResponse({ status: 400, type: ErrorBody })
@ApiResponse({ status: 401, type: ErrorBody })
@ApiResponse({ status: 403, type: ErrorBody })
@Controller('api/v0/admin/logs/records')
export class AdminRecordsController {
  constructor(private readonly records: RecordsService) {}

  @Get()
  @ApiOperation({ summary: 'Every tenant’s records (needs admin:read), newest first' })
  @ApiOkResponse({ type: RecordPage })
  list(@Headers() h: Hdrs, @Query() q: AdminListRecordsQuery): Promise<RecordPage> {
    requireAdmin(h);
    const { tenant, ...rest } = q;
    return this.records.list(tenant, rest);
  }

  @Get(':requestId')
  @ApiOperation({ summary: 'One record by request id, any tenant (needs admin:read)' })
  @ApiOkResponse({ type: RecordView })
  @ApiResponse({ status: 404, type: ErrorBody })
  async one(@Headers() h: Hdrs, @Param('requestId') id: string): Promise<RecordView> {
    requireAdmin(h);
    return (await this.records.one(undefined, id)) ?? Promise.reject(notFound());
  }
}
